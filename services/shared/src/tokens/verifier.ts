/**
 * Verifies platform JWTs locally: signature against the auth service's JWKS (cached, refetched
 * when an unknown `kid` shows up, at most once a second), issuer, audience, expiry, the claim shape, and the revocation
 * feed for key-derived tokens. Used by every service that accepts tokens (gateway, ingest).
 */

import type { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { status } from "@grpc/grpc-js";
import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors, jwtVerify } from "jose";
import { AppError, unauthenticated } from "../errors.ts";
import { callUnary } from "../grpc/clients.ts";
import type { Logger } from "../logger.ts";
import {
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenClaims,
  tokenClaimsSchema,
} from "./claims.ts";
import type { RevocationFeed } from "./revocation-feed.ts";

/**
 * Unknown `kid`s trigger at most one JWKS fetch per this interval, so garbage tokens cannot flood the
 * auth service, and are answered at once otherwise (no request is held waiting for the interval to
 * pass). The price: a token of a key rotated in less than this after the last fetch is refused
 * until the interval has passed; a signing-key rotation is a rare, deliberate act.
 */
const REFETCH_INTERVAL_MS = 1000;
/** Services share the cluster clock; a small tolerance keeps expiry within the 1 s revocation promise. */
const CLOCK_TOLERANCE_S = 1;
/**
 * Tokens whose signature and claims were verified, so a busy caller's every request does not pay
 * for an Ed25519 verification. Only tokens that passed verification get in; expiry and revocation
 * are still checked on every use, and the whole cache is dropped whenever the JWKS is refetched
 * (a retired signing key's tokens must fail from then on).
 */
const VERIFIED_CACHE_MAX = 10_000;

export class TokenVerifier {
  readonly #auth: AuthServiceClient;
  readonly #revocations: RevocationFeed;
  readonly #log: Logger;
  #keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = 0;
  #inflight: Promise<void> | undefined;
  readonly #verified = new Map<string, TokenClaims>();

  constructor(opts: { auth: AuthServiceClient; revocations: RevocationFeed; log: Logger }) {
    this.#auth = opts.auth;
    this.#revocations = opts.revocations;
    this.#log = opts.log;
  }

  /** Fetches the key set now; verification also does this lazily. */
  async refreshKeys(): Promise<void> {
    this.#inflight ??= callUnary(this.#auth.getJwks.bind(this.#auth), {})
      .then((response) => {
        this.#keySet = createLocalJWKSet({ keys: response.keys } as unknown as JSONWebKeySet);
        this.#fetchedAt = Date.now();
        this.#verified.clear();
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  /**
   * Returns the token's claims or throws UNAUTHENTICATED with code `invalid_token`, `token_expired`
   * or `token_revoked`; UNAVAILABLE `revocations_unavailable` while the revocation feed is not
   * current, whatever the token (fail closed).
   */
  async verify(token: string): Promise<TokenClaims> {
    if (!this.#revocations.isCurrent()) {
      throw new AppError(
        status.UNAVAILABLE,
        "revocations_unavailable",
        "tokens cannot be checked until the revocation list is synced from the keys service; retry shortly",
      );
    }
    const cached = this.#verified.get(token);
    if (cached && Date.now() < (cached.exp + CLOCK_TOLERANCE_S) * 1000) return this.#unlessRevoked(cached);
    this.#verified.delete(token);
    if (!this.#keySet) await this.refreshKeys();
    let payload: unknown;
    try {
      payload = await this.#verifySignature(token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey && this.#mayRefetch()) {
        // Perhaps a signing-key rotation: learn the new key, then try again.
        await this.refreshKeys();
        payload = await this.#verifySignature(token).catch((e: unknown) => this.#reject(e));
      } else {
        this.#reject(err);
      }
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw unauthenticated("invalid_token", "token claims are malformed");
    if (this.#verified.size >= VERIFIED_CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, claims.data);
    return this.#unlessRevoked(claims.data);
  }

  #unlessRevoked(claims: TokenClaims): TokenClaims {
    if (claims.styp === "api_key" && this.#revocations.isRevoked(claims.sub, claims.iat)) {
      throw unauthenticated("token_revoked", "the API key this token was issued for has been revoked");
    }
    if (claims.sid && this.#revocations.isRevoked(claims.sid, claims.iat)) {
      throw unauthenticated("session_ended", "this session was signed out; sign in again");
    }
    return claims;
  }

  /** Whether an unknown `kid` may fetch the JWKS now: one is under way (callers share it) or the interval has passed. */
  #mayRefetch(): boolean {
    return this.#inflight !== undefined || Date.now() - this.#fetchedAt >= REFETCH_INTERVAL_MS;
  }

  async #verifySignature(token: string): Promise<unknown> {
    const { payload } = await jwtVerify(token, this.#keySet!, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ["sub", "jti", "iat", "exp"],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    return payload;
  }

  #reject(err: unknown): never {
    if (err instanceof joseErrors.JWTExpired) throw unauthenticated("token_expired", "token has expired");
    this.#log.debug({ err: (err as Error)?.message }, "token rejected");
    throw unauthenticated("invalid_token", "token is invalid");
  }
}
