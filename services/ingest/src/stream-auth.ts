/** Authentication of a StreamFaces call: a platform JWT of role `worker` in the call's metadata. */
import { permissionDenied, unauthenticated } from "@facerec/shared/errors.ts";
import type { TokenClaims } from "@facerec/shared/tokens/claims.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import type { Metadata } from "@grpc/grpc-js";

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/;

/**
 * Returns the verified claims, or throws UNAUTHENTICATED (missing, malformed, expired or revoked
 * token) or PERMISSION_DENIED (a valid token of another role). The tenant is the token's `tid`.
 */
export async function authenticateWorker(metadata: Metadata, verifier: TokenVerifier): Promise<TokenClaims> {
  const values = metadata.get("authorization");
  const match = values.length === 1 && typeof values[0] === "string" ? BEARER.exec(values[0]) : null;
  if (!match) {
    throw unauthenticated(
      "missing_token",
      "send `authorization: Bearer <token>` metadata with a token from POST /v1/auth/token",
    );
  }
  const claims = await verifier.verify(match[1]!);
  if (claims.role !== "worker") {
    throw permissionDenied(`a ${claims.role} token may not stream; use an API key with role worker`);
  }
  return claims;
}
