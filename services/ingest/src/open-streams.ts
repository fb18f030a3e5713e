/**
 * The set of open StreamFaces calls: admission against the per-key and total caps, and closing every
 * stream of a key the moment the revocation feed reports it revoked.
 */
import { type Revocation, RevocationReason } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { AppError, unauthenticated } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";

export interface ClosableStream {
  /** The API key the stream's token was issued for (`sub`). */
  readonly keyId: string;
  /** The token's `iat`, in seconds. */
  readonly issuedAt: number;
  /** Ends the stream with `error`; `reason` is what the worker list says it ended with (default: the error's code). */
  close(error: AppError, reason?: string): void;
}

/** What the worker list says a revoked stream ended with: the guide's words for the key's state. */
const REVOCATION_CAUSES: Partial<Record<RevocationReason, string>> = {
  [RevocationReason.REVOCATION_REASON_DEACTIVATED]: "key_inactive",
  [RevocationReason.REVOCATION_REASON_DELETED]: "key_deleted",
  [RevocationReason.REVOCATION_REASON_EXPIRED]: "key_expired",
};

export interface StreamLimits {
  maxStreams: number;
  maxStreamsPerKey: number;
}

export class OpenStreams {
  readonly #byKey = new Map<string, Set<ClosableStream>>();
  readonly #limits: StreamLimits;
  #count = 0;

  constructor(limits: StreamLimits) {
    this.#limits = limits;
  }

  get count(): number {
    return this.#count;
  }

  /** Registers the stream, or throws RESOURCE_EXHAUSTED; the returned function unregisters it (idempotent). */
  admit(stream: ClosableStream): () => void {
    if (this.#count >= this.#limits.maxStreams) {
      throw new AppError(
        status.RESOURCE_EXHAUSTED,
        "too_many_streams",
        "the ingest service is at its stream limit; retry later",
      );
    }
    const streams = this.#byKey.get(stream.keyId) ?? new Set();
    if (streams.size >= this.#limits.maxStreamsPerKey) {
      throw new AppError(
        status.RESOURCE_EXHAUSTED,
        "too_many_streams_for_key",
        `this API key already has ${streams.size} open streams (the limit); close one first`,
      );
    }
    streams.add(stream);
    this.#byKey.set(stream.keyId, streams);
    this.#count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count--;
      streams.delete(stream);
      if (streams.size === 0 && this.#byKey.get(stream.keyId) === streams) this.#byKey.delete(stream.keyId);
    };
  }

  /** Closes the key's streams whose tokens were issued no later than the revocation; returns how many. */
  revoke(revocation: Revocation): number {
    const revokedAt = revocation.revokedAt?.getTime() ?? Date.now();
    const affected = [...(this.#byKey.get(revocation.keyId) ?? [])].filter(
      // Same rule as the token verifier: a token from the revocation's second is refused too.
      (stream) => stream.issuedAt * 1000 <= revokedAt,
    );
    for (const stream of affected) {
      stream.close(
        unauthenticated("token_revoked", "the API key this stream authenticated with was revoked"),
        REVOCATION_CAUSES[revocation.reason] ?? "token_revoked",
      );
    }
    return affected.length;
  }

  closeAll(error: AppError): void {
    for (const streams of [...this.#byKey.values()]) for (const stream of [...streams]) stream.close(error);
  }
}
