/**
 * Per-client-address rate limits for the brute-forceable endpoints (sign-in, token exchange), with
 * koa-ratelimit's in-memory driver: each gateway replica limits on its own, so the effective limit
 * behind N replicas is N times the setting. Answers 429 with Retry-After; every answer carries
 * RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds until the window resets).
 */

import type { Middleware } from "koa";
import ratelimit from "koa-ratelimit";

const RESET = "RateLimit-Reset";

export function rateLimit(name: string, perMinute: number): Middleware {
  const limit = ratelimit({
    driver: "memory",
    db: new Map(),
    duration: 60_000,
    max: perMinute,
    id: (ctx) => `${name}:${ctx.ip}`,
    throw: true,
    errorMessage: `too many requests to ${name}; retry after the time in Retry-After`,
    headers: { remaining: "RateLimit-Remaining", reset: RESET, total: "RateLimit-Limit" },
  });
  // koa-ratelimit sends the reset as a Unix time; the RateLimit header fields (IETF draft) and the
  // clients that read them take seconds from now.
  return async (ctx, next) => {
    try {
      await limit(ctx, async () => {
        ctx.set(RESET, secondsUntil(ctx.response.get(RESET)));
        await next();
      });
    } catch (err) {
      const headers = (err as { headers?: Record<string, unknown> }).headers;
      if (headers?.[RESET] !== undefined) headers[RESET] = secondsUntil(headers[RESET]);
      throw err;
    }
  };
}

function secondsUntil(unixSeconds: unknown): string {
  return String(Math.max(0, Math.ceil(Number(unixSeconds) - Date.now() / 1000)));
}
