// The worker's operator endpoints on WORKER_HTTP_PORT: liveness, readiness, Prometheus metrics and
// a JSON status for humans and dashboards.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Telemetry } from "../telemetry.ts";

export interface WorkerHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(
  port: number,
  telemetry: Telemetry,
  host = "0.0.0.0",
): Promise<WorkerHttpServer> {
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const json = (status: number, body: unknown) => send(status, "application/json", JSON.stringify(body));
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "method not allowed" });
    const path = new URL(req.url ?? "/", "http://worker").pathname;
    switch (path) {
      case "/healthz":
        return json(200, { status: "ok" });
      case "/readyz":
        // Ready once models are loaded and frames flow; the uplink's state is reported in /status.
        return telemetry.running
          ? json(200, { status: "ready" })
          : json(503, { status: "not ready", reason: "pipeline not running" });
      case "/metrics":
        return send(200, telemetry.registry.contentType, await telemetry.registry.metrics());
      case "/status":
        return json(200, telemetry.snapshot());
      default:
        return json(404, { error: "not found" });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
