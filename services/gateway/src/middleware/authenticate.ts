/**
 * Bearer-token authentication and role check. The caller's tenant comes from the verified token and
 * nowhere else; internal services receive it as the `actor` of every call.
 */
import { type Actor, ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { isProblemCode, problemStatus } from "@facerec/proto/failure-codes.ts";
import { AppError } from "@facerec/shared/errors.ts";
import type { RoleName, TokenClaims } from "@facerec/shared/tokens/claims.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import type { Context, Next } from "koa";
import { Problem } from "./problem.ts";

export interface Caller {
  claims: TokenClaims;
  actor: Actor;
}

export function authenticate(verifier: TokenVerifier, roles: readonly RoleName[]) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get("authorization");
    if (!header) {
      throw new Problem("missing_token", "send `Authorization: Bearer <token>`", {
        headers: { "WWW-Authenticate": "Bearer" },
      });
    }
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/.exec(header);
    if (!match) {
      throw new Problem("invalid_token", "the Authorization header is not `Bearer <token>`", {
        headers: { "WWW-Authenticate": `Bearer error="invalid_token"` },
      });
    }
    let claims: TokenClaims;
    try {
      claims = await verifier.verify(match[1]!);
    } catch (err) {
      // Only a token found wanting is a 401; a check that could not be made (JWKS or revocations
      // unavailable) is the platform's 503, which the client retries with the same token.
      if (err instanceof AppError && isProblemCode(err.code) && problemStatus(err.code) === 401) {
        throw new Problem(err.code, err.message, {
          headers: { "WWW-Authenticate": `Bearer error="invalid_token"` },
        });
      }
      throw err;
    }
    if (!roles.includes(claims.role)) {
      throw new Problem("forbidden", `role ${claims.role} may not ${ctx.method} ${ctx.path}`);
    }
    ctx.state.caller = {
      claims,
      actor: {
        tenantId: claims.tid,
        actorId: claims.sub,
        actorType: claims.styp === "user" ? ActorType.ACTOR_TYPE_USER : ActorType.ACTOR_TYPE_API_KEY,
        displayName: claims.name,
        remoteAddress: ctx.ip,
        userAgent: ctx.get("user-agent").slice(0, 300),
      },
    } satisfies Caller;
    await next();
  };
}
