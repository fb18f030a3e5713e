/** Sign-in, session refresh and sign-out for admins; API-key token exchange for workers; the JWKS. */
import type { Session } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Context } from "koa";
import { z } from "zod";
import type { GatewayDeps } from "../deps.ts";
import { Problem } from "../middleware/problem.ts";
import { rateLimit } from "../middleware/rate-limit.ts";
import { presentUser } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { jwksResponse, loginBody, sessionResponse, tokenBody, tokenResponse } from "../schemas.ts";

const REFRESH_COOKIE = "facerec_refresh";
const SESSION_MARKER_COOKIE = "facerec_session";

/** The refresh cookie as a request reads it (documented for generated clients, which must keep cookies). */
const refreshCookie = z.object({
  [REFRESH_COOKIE]: z.string().max(4096).optional().meta({
    description: "The session's refresh token, set HttpOnly by login and refresh (Path=/v1/auth).",
  }),
});
/** What login, refresh and logout set. */
const sessionCookies = z.object({
  "Set-Cookie": z.string().meta({
    description: `\`${REFRESH_COOKIE}\` (HttpOnly, SameSite=Strict, Path=/v1/auth; the refresh token) and \`${SESSION_MARKER_COOKIE}=1\` (readable by the dashboard: a session exists, no secret); both cleared on logout or a refused refresh.`,
    example: `${REFRESH_COOKIE}=rt_…; path=/v1/auth; max-age=2592000; samesite=strict; httponly`,
  }),
});
/** What a rate-limited endpoint says of its limit on every answer. */
const rateLimitHeaders = z.object({
  "RateLimit-Limit": z
    .string()
    .meta({ description: "Requests allowed per minute from this client address." }),
  "RateLimit-Remaining": z.string().meta({ description: "Requests left in the current minute." }),
  "RateLimit-Reset": z.string().meta({ description: "Seconds until the minute resets." }),
});

export function authRoutes(deps: GatewayDeps): AnyRoute[] {
  const { auth, config } = deps;

  const secure = (ctx: Context) =>
    config.COOKIE_SECURE === "auto" ? ctx.secure : config.COOKIE_SECURE === "true";

  /**
   * The refresh token lives in an HttpOnly cookie scoped to /v1/auth. Beside it, a marker cookie
   * without any secret tells the dashboard whether a session exists, so it does not probe
   * /v1/auth/refresh (and log a 401) when nobody is signed in.
   */
  const setRefreshCookie = (ctx: Context, value: string | null, maxAgeSeconds = 0) => {
    const lifetime = value ? { maxAge: maxAgeSeconds * 1000 } : { expires: new Date(0) };
    const common = { sameSite: "strict" as const, secure: secure(ctx), overwrite: true, ...lifetime };
    ctx.cookies.set(REFRESH_COOKIE, value, { ...common, httpOnly: true, path: "/v1/auth" });
    ctx.cookies.set(SESSION_MARKER_COOKIE, value ? "1" : null, { ...common, httpOnly: false, path: "/" });
  };

  const respondWithSession = (ctx: Context, session: Session | undefined) => {
    if (!session?.user) throw new Problem("internal", "session missing");
    setRefreshCookie(ctx, session.refreshToken, session.refreshExpiresIn);
    ctx.set("Cache-Control", "no-store");
    ctx.body = {
      accessToken: session.accessToken,
      tokenType: "Bearer",
      expiresIn: session.expiresIn,
      user: presentUser(session.user),
    };
  };

  const ingestEndpoint = (ctx: Context) =>
    config.PUBLIC_INGEST_URL ?? `grpc://${ctx.hostname || "localhost"}:${config.INGEST_PORT}`;

  return [
    defineRoute({
      method: "post",
      path: "/v1/auth/login",
      operationId: "login",
      summary: "Sign in with email and password",
      tag: "auth",
      access: "public",
      body: loginBody,
      before: [rateLimit("login", config.LOGIN_RATE_LIMIT)],
      responses: {
        200: {
          description: "Signed in; sets the refresh cookie",
          schema: sessionResponse,
          headers: sessionCookies.extend(rateLimitHeaders.shape),
        },
      },
      handler: async (ctx, { body }) => {
        const { session } = await callUnary(auth.login.bind(auth), {
          email: body.email,
          password: body.password,
          tenantId: body.tenantId ?? "",
          remoteAddress: ctx.ip,
          userAgent: ctx.get("user-agent").slice(0, 300),
        });
        respondWithSession(ctx, session);
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/auth/refresh",
      operationId: "refreshSession",
      summary: "Trade the refresh cookie for a new access token (rotates the cookie)",
      tag: "auth",
      access: "public",
      cookies: refreshCookie,
      responses: {
        200: {
          description: "A new access token; the refresh cookie is rotated",
          schema: sessionResponse,
          headers: sessionCookies,
        },
      },
      handler: async (ctx, { cookies }) => {
        const refreshToken = cookies[REFRESH_COOKIE];
        if (!refreshToken) throw new Problem("invalid_refresh_token", "no session; sign in");
        try {
          const { session } = await callUnary(auth.refresh.bind(auth), { refreshToken });
          respondWithSession(ctx, session);
        } catch (err) {
          setRefreshCookie(ctx, null);
          throw err;
        }
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/auth/logout",
      operationId: "logout",
      summary: "End the session of the refresh cookie",
      tag: "auth",
      access: "public",
      cookies: refreshCookie,
      responses: { 204: { description: "Signed out; the cookies are cleared", headers: sessionCookies } },
      handler: async (ctx, { cookies }) => {
        const refreshToken = cookies[REFRESH_COOKIE];
        if (refreshToken) await callUnary(auth.logout.bind(auth), { refreshToken });
        setRefreshCookie(ctx, null);
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/auth/token",
      operationId: "exchangeApiKey",
      summary: "Exchange an API key for a short-lived JWT",
      tag: "auth",
      access: "public",
      body: tokenBody,
      before: [rateLimit("token exchange", config.TOKEN_RATE_LIMIT)],
      responses: {
        200: {
          description: "The access token and where to stream",
          schema: tokenResponse,
          headers: rateLimitHeaders,
        },
      },
      handler: async (ctx, { body }) => {
        const result = await callUnary(auth.exchangeApiKey.bind(auth), {
          apiKey: body.apiKey,
          tenantId: body.tenantId,
          // The socket's peer, or with TRUST_PROXY the client X-Forwarded-For names: keys limited
          // to address ranges are checked against it.
          remoteAddress: ctx.ip,
        });
        ctx.set("Cache-Control", "no-store");
        ctx.body = {
          accessToken: result.accessToken,
          tokenType: "Bearer",
          expiresIn: result.expiresIn,
          ingestEndpoint: ingestEndpoint(ctx),
          keyExpiresAt: result.apiKey?.expiresAt?.toISOString() ?? null,
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/auth/jwks",
      operationId: "getJwks",
      summary: "Public keys that verify platform tokens",
      tag: "auth",
      access: "public",
      responses: { 200: { description: "JSON Web Key Set", schema: jwksResponse } },
      handler: async (ctx) => {
        const { keys } = await callUnary(auth.getJwks.bind(auth), {});
        ctx.set("Cache-Control", "public, max-age=60");
        ctx.body = { keys };
      },
    }),
  ];
}
