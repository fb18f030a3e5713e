import { runService } from "@facerec/shared/run-service.ts";
import { loadIngestConfig } from "./config.ts";
import { startIngestService } from "./server.ts";

await runService("ingest", loadIngestConfig, startIngestService);
