/**
 * Fan-out of key revocations to every subscriber of every keys replica, without change streams
 * (FerretDB has none): a revocation is written to `key_revocations`, pushed at once to this
 * replica's subscribers, and each replica polls the collection every REVOCATION_POLL_MS to pick up
 * what other replicas wrote. Cost: one indexed range query per replica per poll interval.
 * Key expiry, and the end of a rotation's grace period, are announced the same way by sweeps over
 * `expiresAt` and `previousSecretExpiresAt`, deduplicated across replicas by deterministic ids.
 */
import { type Revocation, RevocationReason } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { ApiKeyDoc, KeysModels, RevocationDoc } from "./models.ts";

type Reason = RevocationDoc["reason"];
type Listener = (revocations: Revocation[]) => void;

/** New subscribers get every revocation this recent: longer than any token lives. */
const SNAPSHOT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Re-read this far behind the newest revocation seen, to tolerate clock skew between replicas. */
const SKEW_MS = 5000;

const REASONS: Record<Reason, RevocationReason> = {
  deactivated: RevocationReason.REVOCATION_REASON_DEACTIVATED,
  deleted: RevocationReason.REVOCATION_REASON_DELETED,
  expired: RevocationReason.REVOCATION_REASON_EXPIRED,
  rotated: RevocationReason.REVOCATION_REASON_ROTATED,
  limits_changed: RevocationReason.REVOCATION_REASON_LIMITS_CHANGED,
  session_ended: RevocationReason.REVOCATION_REASON_SESSION_ENDED,
};

export class RevocationHub {
  readonly #models: KeysModels;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #listeners = new Set<Listener>();
  /** Revocation ids already delivered, with their recordedAt, pruned past the skew window. */
  readonly #delivered = new Map<string, number>();
  #cursor = Date.now() - SKEW_MS;
  #sweptUpTo = Date.now() - SNAPSHOT_WINDOW_MS;
  #polling: Repeating | undefined;

  constructor(opts: { models: KeysModels; log: Logger; pollMs: number }) {
    this.#models = opts.models;
    this.#log = opts.log;
    this.#pollMs = opts.pollMs;
  }

  start(): void {
    this.#polling = repeat(
      async () => {
        await this.#announceEnds();
        await this.#pollOtherReplicas();
      },
      {
        everyMs: this.#pollMs,
        now: true,
        onError: (err) => this.#log.warn({ err }, "revocation poll failed; retrying"),
      },
    );
  }

  /** Waits for a poll in flight: the connection may be closed once this resolves. */
  async stop(): Promise<void> {
    await this.#polling?.stop();
    this.#listeners.clear();
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async snapshot(): Promise<Revocation[]> {
    const rows = await this.#models.revocations
      .find({ revokedAt: { $gte: new Date(Date.now() - SNAPSHOT_WINDOW_MS) } })
      .sort({ revokedAt: 1 })
      .lean<RevocationDoc[]>();
    return rows.map(toRevocation);
  }

  /**
   * Refuses the key's tokens issued at or before `revokedAt` (default now). `id` makes a revocation
   * that several replicas may announce a single row.
   */
  async revoke(
    key: Pick<ApiKeyDoc, "_id" | "tenantId">,
    reason: Reason,
    id: string = crypto.randomUUID(),
    revokedAt = new Date(),
  ): Promise<void> {
    const doc: RevocationDoc = {
      _id: id,
      keyId: key._id,
      tenantId: key.tenantId,
      revokedAt,
      recordedAt: new Date(),
      reason,
    };
    await this.#models.revocations.create(doc);
    this.#deliver([doc]);
  }

  #deliver(rows: RevocationDoc[]): void {
    const fresh = rows.filter((r) => !this.#delivered.has(r._id));
    if (fresh.length === 0) return;
    for (const r of fresh) this.#delivered.set(r._id, (r.recordedAt ?? r.revokedAt).getTime());
    const message = fresh.map(toRevocation);
    for (const listener of this.#listeners) listener(message);
  }

  async #pollOtherReplicas(): Promise<void> {
    const rows = await this.#models.revocations
      .find({ recordedAt: { $gte: new Date(this.#cursor - SKEW_MS) } })
      .sort({ recordedAt: 1 })
      .lean<RevocationDoc[]>();
    this.#deliver(rows);
    const newest = rows.at(-1)?.recordedAt?.getTime();
    if (newest !== undefined && newest > this.#cursor) this.#cursor = newest;
    for (const [id, at] of this.#delivered) if (at < this.#cursor - 2 * SKEW_MS) this.#delivered.delete(id);
  }

  /**
   * Announces keys whose expiration passed, and rotations whose grace period ended since the last
   * sweep. The end of a grace period revokes the tokens issued before the rotation (all from the
   * previous secret); tokens exchanged from the previous secret during the grace period never
   * outlive it (the auth service caps them), and the new secret's tokens stay valid.
   */
  async #announceEnds(): Promise<void> {
    const now = Date.now();
    const window = { $gt: new Date(this.#sweptUpTo), $lte: new Date(now) };
    type Ending = Pick<ApiKeyDoc, "_id" | "tenantId" | "expiresAt" | "rotatedAt">;
    const expired = await this.#models.apiKeys
      .find({ expiresAt: window }, { _id: 1, tenantId: 1, expiresAt: 1 })
      .lean<Ending[]>();
    const rotated = await this.#models.apiKeys
      .find({ previousSecretExpiresAt: window }, { _id: 1, tenantId: 1, rotatedAt: 1 })
      .lean<Ending[]>();
    // Same id on every replica: the first insert wins, the others get a duplicate-key error.
    const once = (err: { code?: number }) => {
      if (!isDuplicateKey(err)) throw err;
    };
    for (const key of expired) {
      await this.revoke(key, "expired", `expired:${key._id}:${key.expiresAt!.getTime()}`).catch(once);
    }
    for (const key of rotated) {
      const at = key.rotatedAt!;
      await this.revoke(key, "rotated", rotationRevocationId(key._id, at), at).catch(once);
    }
    this.#sweptUpTo = now;
  }
}

/** The one revocation that ends a rotation, whichever replica announces it. */
export const rotationRevocationId = (keyId: string, rotatedAt: Date) =>
  `rotated:${keyId}:${rotatedAt.getTime()}`;

function toRevocation(doc: RevocationDoc): Revocation {
  return { keyId: doc.keyId, tenantId: doc.tenantId, revokedAt: doc.revokedAt, reason: REASONS[doc.reason] };
}
