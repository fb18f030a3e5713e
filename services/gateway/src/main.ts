import { runService } from "@facerec/shared/run-service.ts";
import { loadGatewayConfig } from "./config.ts";
import { startGateway } from "./server.ts";

await runService("gateway", loadGatewayConfig, startGateway);
