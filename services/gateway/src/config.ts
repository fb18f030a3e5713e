import { fileURLToPath } from "node:url";
import {
  DEFAULT_PORTS,
  logLevel,
  optionalString,
  parseConfig,
  port,
  serviceEnv,
} from "@facerec/shared/config.ts";
import { z } from "zod";

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: logLevel,
  GATEWAY_PORT: port(DEFAULT_PORTS.gateway),
  /** Public interface; 0.0.0.0 so browsers and workers on other machines can reach it. */
  GATEWAY_HOST: z.string().default("0.0.0.0"),
  /** Serve Prometheus metrics on this port at /metrics (BIND_HOST), not on the public port; unset disables it. */
  GATEWAY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Interface of the metrics port; containers set 0.0.0.0 for the scraper. */
  BIND_HOST: serviceEnv.BIND_HOST,
  AUTH_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.auth}`),
  KEYS_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.keys}`),
  INGEST_PORT: port(DEFAULT_PORTS.ingest),
  /** The ingest service's internal query API (its INGEST_INTERNAL_PORT), for /v1/workers and /v1/events. */
  INGEST_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.ingest + 1}`),
  /** The people service (people, enrolled faces, gallery search). */
  PEOPLE_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.people}`),
  /** The ingest endpoint told to workers; by default the host they reached the gateway by, on INGEST_PORT. */
  PUBLIC_INGEST_URL: optionalString,
  /** Origin allowed to call the API from a browser when the dashboard is served elsewhere (CORS). */
  DASHBOARD_ORIGIN: optionalString,
  /** Built dashboard served at `/`. */
  WEB_DIST: z.string().default(fileURLToPath(new URL("../../../web/dist/", import.meta.url))),
  /** Trust X-Forwarded-For from a reverse proxy for client addresses. */
  TRUST_PROXY: z.stringbool().default(false),
  /**
   * With TRUST_PROXY: how many proxies append to X-Forwarded-For; the client address is the entry
   * that many from the right, so a client cannot choose its address by sending the header itself.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  /** Sign-in attempts per client address per minute. */
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
  /** Token exchanges per client address per minute. */
  TOKEN_RATE_LIMIT: z.coerce.number().int().min(1).default(120),
  /** Largest accepted JSON body. */
  BODY_LIMIT: z.string().default("64kb"),
  /** Mark the refresh cookie Secure (needs HTTPS); `auto` follows the request's protocol. */
  COOKIE_SECURE: z.enum(["auto", "true", "false"]).default("auto"),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export const loadGatewayConfig = (env?: NodeJS.ProcessEnv) => parseConfig(gatewayConfigSchema, env);
