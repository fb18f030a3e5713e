/** Authentication of a StreamFaces call: a platform JWT of role `worker` in the call's metadata. */
import { permissionDenied, unauthenticated } from "@facerec/shared/errors.ts";
import type { TokenClaims } from "@facerec/shared/tokens/claims.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import type { Metadata } from "@grpc/grpc-js";
import { type Rejection, rejection } from "./batch-validation.ts";

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/;

/**
 * Returns the verified claims, or throws UNAUTHENTICATED (`missing_token`; `invalid_token` for a
 * malformed or forged one; expired or revoked) or PERMISSION_DENIED (a valid token of another
 * role). The tenant is the token's `tid`.
 */
export async function authenticateWorker(metadata: Metadata, verifier: TokenVerifier): Promise<TokenClaims> {
  const values = metadata.get("authorization");
  if (values.length === 0) {
    throw unauthenticated(
      "missing_token",
      "send `authorization: Bearer <token>` metadata with a token from POST /v1/auth/token",
    );
  }
  const match = values.length === 1 && typeof values[0] === "string" ? BEARER.exec(values[0]) : null;
  if (!match) {
    throw unauthenticated(
      "invalid_token",
      "the authorization metadata is not one `Bearer <token>`; use a token from POST /v1/auth/token",
    );
  }
  const claims = await verifier.verify(match[1]!);
  if (claims.role !== "worker") {
    throw permissionDenied(`a ${claims.role} token may not stream; use an API key with role worker`);
  }
  return claims;
}

/**
 * Why a batch falls outside the site or worker limits of the key the stream's token came from
 * (`site_not_allowed`, `worker_not_allowed`), or undefined when it may be stored. Refused batches
 * are rejected by their ack; the stream stays open.
 */
export function batchScopeRejection(
  claims: Pick<TokenClaims, "sites" | "workers">,
  batch: { siteId: string; workerId: string },
): Rejection | undefined {
  if (claims.sites && !claims.sites.includes(batch.siteId))
    return rejection(
      "site_not_allowed",
      "site_id",
      `the API key may stream only for sites ${claims.sites.join(", ")}, not ${batch.siteId}; check SITE_ID or the key's sites in the dashboard`,
    );
  if (claims.workers && !claims.workers.includes(batch.workerId))
    return rejection(
      "worker_not_allowed",
      "worker_id",
      `the API key may stream only as workers ${claims.workers.join(", ")}, not ${batch.workerId}; check WORKER_ID or the key's workers in the dashboard`,
    );
  return undefined;
}
