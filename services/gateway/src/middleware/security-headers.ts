/**
 * Security headers (helmet) that fit how the request arrived. `upgrade-insecure-requests` and HSTS
 * are right only over TLS: sent over plain HTTP they make the browser fetch the dashboard's scripts
 * from https://<host>:8080, which has no TLS, so an admin opening http://<LAN address>:8080 saw a
 * blank page. Koa's `ctx.secure` is true for a TLS socket, or, with TRUST_PROXY, for a trusted
 * `X-Forwarded-Proto: https` from the reverse proxy that terminates TLS. Cross-Origin-Opener-Policy
 * is likewise TLS-only: browsers ignore it on an untrustworthy origin and log a console error.
 */
import type { Middleware } from "koa";
import helmet from "koa-helmet";

const directives = {
  defaultSrc: ["'self'"],
  // WebAssembly compilation only (not eval): the enrolment dialog's face detector (MediaPipe) is wasm.
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  // naive-ui injects component styles at run time.
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:", "blob:"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
};

const overTls = helmet({ contentSecurityPolicy: { directives } });
const overPlainHttp = helmet({
  contentSecurityPolicy: { directives: { ...directives, upgradeInsecureRequests: null } },
  strictTransportSecurity: false,
  crossOriginOpenerPolicy: false,
});

export const securityHeaders: Middleware = (ctx, next) =>
  ctx.secure ? overTls(ctx, next) : overPlainHttp(ctx, next);
