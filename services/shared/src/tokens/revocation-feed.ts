/**
 * Follows the keys service's revocation stream and answers "was this key revoked after this token
 * was issued?" from memory, so verifying a token costs no network call. Consumers (the ingest
 * service) can also listen for `revoked` to close open streams at once.
 */
import { EventEmitter } from "node:events";
import type {
  KeysServiceClient,
  Revocation,
  WatchRevocationsResponse,
} from "@facerec/proto/facerec/keys/v1/keys.ts";
import type { ClientReadableStream } from "@grpc/grpc-js";
import type { Logger } from "../logger.ts";

/** Forget revocations older than any token could be: tokens live at most this long. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

export interface RevocationEvents {
  revoked: [revocation: Revocation];
}

export class RevocationFeed extends EventEmitter<RevocationEvents> {
  readonly #revokedAt = new Map<string, number>();
  readonly #client: KeysServiceClient;
  readonly #log: Logger;
  #stream: ClientReadableStream<WatchRevocationsResponse> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;
  /** True once the initial snapshot arrived on the current subscription. */
  synced = false;

  constructor(client: KeysServiceClient, log: Logger) {
    super();
    this.#client = client;
    this.#log = log;
  }

  start(): void {
    this.#subscribe();
  }

  /** Whether tokens of `keyId` issued at `issuedAtSeconds` (the `iat` claim) must be refused. */
  isRevoked(keyId: string, issuedAtSeconds: number): boolean {
    const revokedAt = this.#revokedAt.get(keyId);
    // `iat` has one-second resolution: a token issued in the same second as the revocation is
    // refused too, erring on the safe side (a reactivated key's worker simply asks again).
    return revokedAt !== undefined && revokedAt >= issuedAtSeconds * 1000;
  }

  /** Resolves when the initial snapshot has arrived (or immediately if it already has). */
  async whenSynced(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced) {
      if (Date.now() > deadline) throw new Error("revocation feed did not sync");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#stream?.cancel();
  }

  #subscribe(): void {
    if (this.#closed) return;
    const stream = this.#client.watchRevocations({});
    this.#stream = stream;
    stream.on("data", (message: WatchRevocationsResponse) => {
      this.#attempt = 0;
      for (const revocation of message.revocations) this.#apply(revocation);
      this.synced = true;
    });
    const retry = (err?: Error) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.synced = false;
      if (this.#closed) return;
      // Exponential backoff with full jitter, capped at 2 s: revocations must resume quickly.
      const delay = Math.random() * Math.min(2000, 100 * 2 ** this.#attempt++);
      this.#log.warn(
        { err: err?.message, retryInMs: Math.round(delay) },
        "revocation feed disconnected; resubscribing",
      );
      this.#retryTimer = setTimeout(() => this.#subscribe(), delay);
    };
    stream.on("error", retry);
    stream.on("end", () => retry());
  }

  #apply(revocation: Revocation): void {
    const at = revocation.revokedAt?.getTime() ?? Date.now();
    const known = this.#revokedAt.get(revocation.keyId);
    if (known !== undefined && known >= at) return;
    this.#revokedAt.set(revocation.keyId, at);
    this.emit("revoked", revocation);
    this.#prune();
  }

  #prune(): void {
    const cutoff = Date.now() - RETENTION_MS;
    for (const [keyId, at] of this.#revokedAt) if (at < cutoff) this.#revokedAt.delete(keyId);
  }
}
