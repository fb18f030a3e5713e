/** The gateway's Koa application: middleware order is the security model's order. */

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@facerec/shared/logger.ts";
import { bodyParser } from "@koa/bodyparser";
import cors from "@koa/cors";
import Router from "@koa/router";
import Koa from "koa";
import serve from "koa-static";
import type { GatewayDeps } from "./deps.ts";
import { problemDetails } from "./middleware/problem.ts";
import { requestContext } from "./middleware/request-context.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { mountRoutes, openApiDocument } from "./route.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { auditRoutes } from "./routes/audit-events.ts";
import { authRoutes } from "./routes/auth.ts";
import { eventRoutes } from "./routes/events.ts";
import { faceSearchRoutes } from "./routes/face-search.ts";
import { meRoutes } from "./routes/me.ts";
import { peopleRoutes } from "./routes/people.ts";
import { recognitionSettingsRoutes } from "./routes/recognition-settings.ts";
import { sightingRoutes } from "./routes/sightings.ts";
import { tenantRoutes } from "./routes/tenants.ts";
import { userRoutes } from "./routes/users.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { workerRoutes } from "./routes/workers.ts";

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** Every REST /v1 operation: what the app mounts and what the OpenAPI document (and the dashboard's types) describe. */
export function apiRoutes(deps: GatewayDeps) {
  return [
    ...authRoutes(deps),
    ...meRoutes(deps),
    ...apiKeyRoutes(deps),
    ...auditRoutes(deps),
    ...tenantRoutes(deps),
    ...userRoutes(deps),
    ...workerRoutes(deps),
    ...eventRoutes(deps),
    ...peopleRoutes(deps),
    ...faceSearchRoutes(deps),
    ...sightingRoutes(deps),
    ...recognitionSettingsRoutes(deps),
    ...webhookRoutes(deps),
  ];
}

export function createApp(
  deps: GatewayDeps,
  opts: { log: Logger; readiness: () => Promise<Readiness> },
): Koa {
  const { config } = deps;
  const app = new Koa({ proxy: config.TRUST_PROXY, maxIpsCount: config.TRUST_PROXY_HOPS });
  const routes = apiRoutes(deps);
  const openapi = openApiDocument(routes);

  const router = new Router();
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    const readiness = await opts.readiness();
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = readiness;
  });
  router.get("/v1/openapi.json", (ctx) => {
    ctx.body = openapi;
  });
  mountRoutes(router, routes, deps.verifier);

  app.use(requestContext(opts.log));
  app.use(problemDetails);
  app.use(securityHeaders);
  if (config.DASHBOARD_ORIGIN)
    app.use(
      cors({
        origin: config.DASHBOARD_ORIGIN,
        credentials: true,
        exposeHeaders: ["X-Request-Id", "Retry-After"],
      }),
    );
  app.use(bodyParser({ enableTypes: ["json"], jsonLimit: config.BODY_LIMIT, encoding: "utf-8" }));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  app.use(dashboard(config.WEB_DIST));
  return app;
}

/** The built dashboard at `/`, with index.html for client-side routes. */
function dashboard(dist: string): Koa.Middleware {
  const index = join(dist, "index.html");
  const assets = serve(dist, { index: false, maxage: 365 * 24 * 3600 * 1000, immutable: true });
  return async (ctx, next) => {
    if (ctx.method !== "GET" || ctx.path.startsWith("/v1/")) return next();
    if (!existsSync(index)) {
      ctx.status = 503;
      ctx.type = "text/plain";
      ctx.body =
        "The dashboard is not built. Run `npm run build -w @facerec/web` (npm start does this for you).";
      return;
    }
    if (ctx.path.startsWith("/assets/")) return assets(ctx, next);
    ctx.type = "html";
    ctx.set("Cache-Control", "no-cache");
    ctx.body = await readFile(index);
  };
}
