/**
 * Prometheus metrics on a port of their own (`GET /metrics`), never on a public API port: the
 * figures (request counts, process details) are for the operator's scraper, which reaches the
 * internal interface, not for anyone who can reach the API.
 */
import { createServer } from "node:http";
import type { Registry } from "prom-client";

export async function serveMetrics(registry: Registry, host: string, port: number) {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  // A port in use rejects (runService names the variable) instead of crashing on an unhandled event.
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  return {
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
