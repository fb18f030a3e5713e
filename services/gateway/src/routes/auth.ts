/** Sign-in, session refresh and sign-out for admins; API-key token exchange for workers; the JWKS. */
import type { Session } from "@facerec/proto/facerec/auth/v1/auth.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Context } from "koa";
import type { GatewayDeps } from "../deps.ts";
import { Problem } from "../middleware/problem.ts";
import { rateLimit } from "../middleware/rate-limit.ts";
import { presentUser } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { jwksResponse, loginBody, sessionResponse, tokenBody, tokenResponse } from "../schemas.ts";

const REFRESH_COOKIE = "facerec_refresh";
const SESSION_MARKER_COOKIE = "facerec_session";

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
    if (!session?.user) throw new Problem(500, "internal", "session missing");
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
      responses: { 200: { description: "Signed in; sets the refresh cookie", schema: sessionResponse } },
      handler: async (ctx, { body }) => {
        const { session } = await callUnary(auth.login.bind(auth), {
          email: body.email,
          password: body.password,
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
      responses: { 200: { description: "A new access token", schema: sessionResponse } },
      handler: async (ctx) => {
        const refreshToken = ctx.cookies.get(REFRESH_COOKIE);
        if (!refreshToken) throw new Problem(401, "invalid_refresh_token", "no session; sign in");
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
      responses: { 204: { description: "Signed out" } },
      handler: async (ctx) => {
        const refreshToken = ctx.cookies.get(REFRESH_COOKIE);
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
      responses: { 200: { description: "The access token and where to stream", schema: tokenResponse } },
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
