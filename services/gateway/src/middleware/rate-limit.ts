/**
 * Per-client-address rate limits for the brute-forceable endpoints (sign-in, token exchange), with
 * koa-ratelimit's in-memory driver: each gateway replica limits on its own, so the effective limit
 * behind N replicas is N times the setting. Answers 429 with Retry-After.
 */

import type { Middleware } from "koa";
import ratelimit from "koa-ratelimit";

export function rateLimit(name: string, perMinute: number): Middleware {
  return ratelimit({
    driver: "memory",
    db: new Map(),
    duration: 60_000,
    max: perMinute,
    id: (ctx) => `${name}:${ctx.ip}`,
    throw: true,
    errorMessage: `too many requests to ${name}; retry after the time in Retry-After`,
    headers: { remaining: "RateLimit-Remaining", reset: "RateLimit-Reset", total: "RateLimit-Limit" },
  });
}
