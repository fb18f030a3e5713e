import { createApiClient } from "./client.ts";

/** The dashboard's client: same origin as the gateway that serves it. */
export const api = createApiClient();
