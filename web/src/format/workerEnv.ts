/** The lines of the worker's `.env` from the setup guide, filled in with what the dashboard knows. */
export function workerEnvLines(apiKey: string, tenantId: string): string {
  return [`WORKER_API_KEY=${apiKey}`, `TENANT_ID=${tenantId}`, "SITE_ID=<your-site-id>"].join("\n");
}
