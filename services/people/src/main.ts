import { runService } from "@facerec/shared/run-service.ts";
import { loadPeopleConfig } from "./config.ts";
import { startPeopleService } from "./server.ts";

await runService("people", loadPeopleConfig, startPeopleService);
