/**
 * Tells the keys service that a key is streaming (RecordKeyUse), so the dashboard's "Last Used"
 * means "in use now" for a streaming worker rather than "at its last token exchange", and shows
 * which worker from which address. At most one call per key per interval from this replica; the
 * call never delays a batch, and a failure only costs one update of Last Used.
 */
import type { KeysServiceClient } from "@facerec/proto/facerec/keys/v1/keys.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Logger } from "@facerec/shared/logger.ts";

/** The keys service's own resolution for lastUsedAt. */
export const KEY_USE_INTERVAL_MS = 30_000;
/** Keys remembered at once; beyond it the oldest is forgotten (and may be reported again early). */
const MAX_TRACKED_KEYS = 10_000;

export interface KeyUse {
  keyId: string;
  tenantId: string;
  workerId: string;
  remoteAddress: string;
}

export class KeyUseRecorder {
  readonly #keys: KeysServiceClient;
  readonly #log: Logger;
  readonly #intervalMs: number;
  /** Key id → when this replica last reported it. */
  readonly #reportedAt = new Map<string, number>();

  constructor(keys: KeysServiceClient, log: Logger, intervalMs = KEY_USE_INTERVAL_MS) {
    this.#keys = keys;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** Notes a stored batch's use of its stream's key. */
  note(use: KeyUse): void {
    const now = Date.now();
    const last = this.#reportedAt.get(use.keyId);
    if (last !== undefined && now - last < this.#intervalMs) return;
    this.#reportedAt.delete(use.keyId);
    this.#reportedAt.set(use.keyId, now);
    if (this.#reportedAt.size > MAX_TRACKED_KEYS)
      this.#reportedAt.delete(this.#reportedAt.keys().next().value!);
    callUnary(this.#keys.recordKeyUse.bind(this.#keys), use).catch((err: unknown) =>
      this.#log.debug({ err, keyId: use.keyId }, "could not record the key's use; Last Used lags"),
    );
  }
}
