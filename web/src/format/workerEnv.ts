/**
 * The lines of the worker's `.env` from the setup guide, in its order, filled in with what the
 * dashboard knows. The gateway serves the dashboard, so the page's origin is the worker's API_URL.
 * Every line ends with a newline, the last one too: pasted or appended to an existing `.env`, the
 * next line does not run into SITE_ID.
 */
export function workerEnvLines(apiUrl: string, apiKey: string, tenantId: string): string {
  return [`API_URL=${apiUrl}`, `WORKER_API_KEY=${apiKey}`, `TENANT_ID=${tenantId}`, "SITE_ID=<your-site-id>"]
    .map((line) => `${line}\n`)
    .join("");
}
