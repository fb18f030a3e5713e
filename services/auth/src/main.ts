import { runService } from "@facerec/shared/run-service.ts";
import { loadAuthConfig } from "./config.ts";
import { startAuthService } from "./server.ts";

await runService("auth", loadAuthConfig, startAuthService);
