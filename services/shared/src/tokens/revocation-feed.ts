/**
 * Follows the keys service's revocation stream and answers "was this key revoked after this token
 * was issued?" from memory, so verifying a token costs no network call. Consumers (the ingest
 * service) can also listen for `revoked` to close open streams at once.
 *
 * Fails closed: until the first snapshot has arrived, and again once the subscription has been lost
 * for longer than STALE_AFTER_MS, the feed is not `current` and verifiers accept no token at all
 * (a replica started during a keys outage would otherwise honour keys revoked long before).
 */
import { EventEmitter } from "node:events";
import type {
  KeysServiceClient,
  Revocation,
  WatchRevocationsResponse,
} from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { StreamFollower } from "../grpc/stream-follower.ts";
import type { Logger } from "../logger.ts";

/** Forget revocations older than any token could be: tokens live at most this long. */
const RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * A lost subscription is tolerated this long (a keys restart, a reconnect) before tokens are
 * refused: the platform's promise is that a revocation takes effect everywhere within 1 s.
 */
export const STALE_AFTER_MS = 1000;

export interface RevocationEvents {
  revoked: [revocation: Revocation];
  /** `synced` changed: a snapshot arrived, or the subscription was lost. */
  synced: [synced: boolean];
}

export class RevocationFeed extends EventEmitter<RevocationEvents> {
  readonly #revokedAt = new Map<string, number>();
  readonly #log: Logger;
  readonly #follower: StreamFollower<WatchRevocationsResponse>;
  /** True once the initial snapshot arrived on the current subscription. */
  synced = false;
  /** When the last synced subscription was lost; undefined while synced or before the first sync. */
  #lostAt: number | undefined;

  constructor(client: KeysServiceClient, log: Logger) {
    super();
    this.#log = log;
    this.#follower = new StreamFollower({
      open: () => client.watchRevocations({}),
      onData: (message) => this.#received(message),
      onLost: (err, retryInMs) => this.#lost(err, retryInMs),
      // Resubscribing waits 2 s at most: revocations must resume quickly.
      resubscribe: { initialMs: 100, maxMs: 2000, jitter: "full" },
    });
  }

  start(): void {
    this.#follower.start();
  }

  /** Whether tokens of `keyId` issued at `issuedAtSeconds` (the `iat` claim) must be refused. */
  isRevoked(keyId: string, issuedAtSeconds: number): boolean {
    const revokedAt = this.#revokedAt.get(keyId);
    // `iat` has one-second resolution: a token issued in the same second as the revocation is
    // refused too, erring on the safe side (a reactivated key's worker simply asks again).
    return revokedAt !== undefined && revokedAt >= issuedAtSeconds * 1000;
  }

  /** Whether revocation checks can be trusted now: synced, or lost for less than STALE_AFTER_MS. */
  isCurrent(now = Date.now()): boolean {
    return this.synced || (this.#lostAt !== undefined && now - this.#lostAt < STALE_AFTER_MS);
  }

  close(): void {
    this.#follower.close();
  }

  /** The keys service sends the snapshot as the first message of every subscription. */
  #received(message: WatchRevocationsResponse): void {
    for (const revocation of message.revocations) this.#apply(revocation);
    this.#lostAt = undefined;
    if (this.synced) return;
    this.synced = true;
    this.#log.info("revocation feed synced");
    this.emit("synced", true);
  }

  #lost(err: Error | undefined, retryInMs: number | undefined): void {
    if (this.synced) {
      this.#lostAt = Date.now();
      this.synced = false;
      this.emit("synced", false);
    }
    if (retryInMs === undefined) return;
    this.#log.warn(
      { err: err?.message, retryInMs: Math.round(retryInMs) },
      "revocation feed disconnected; resubscribing",
    );
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
