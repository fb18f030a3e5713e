/** Request id, structured access log and HTTP metrics for every request. */

import type { Logger } from "@facerec/shared/logger.ts";
import type { Context, Next } from "koa";
import { Histogram } from "prom-client";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Polled by orchestrators and the stack runner every few seconds: logged at debug, not info. */
const PROBES = new Set(["/healthz", "/readyz"]);

const httpDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "HTTP request duration by method, route and status",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

export function requestContext(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get("x-request-id");
    const requestId = REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set("X-Request-Id", requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route =
        (ctx as { _matchedRoute?: string })._matchedRoute ??
        (ctx.path.startsWith("/v1/") ? "unmatched" : "static");
      httpDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      ctx.state.log[PROBES.has(ctx.path) ? "debug" : "info"](
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) },
        "request",
      );
    }
  };
}
