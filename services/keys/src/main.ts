import { runService } from "@facerec/shared/run-service.ts";
import { loadKeysConfig } from "./config.ts";
import { startKeysService } from "./server.ts";

await runService("keys", loadKeysConfig, startKeysService);
