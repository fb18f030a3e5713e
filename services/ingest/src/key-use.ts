/**
 * Tells the keys service that a key is streaming (RecordKeyUse), so the dashboard's "Last Used"
 * means "in use now" for a streaming worker rather than "at its last token exchange", and shows
 * which worker from which address, and how many observations it stored (the key's usage counts).
 * At most one call per key per interval from this replica; observations stored in between are
 * added up and sent with the next call, or by a sweep once the interval has passed (so a worker
 * that stopped is counted in full). The call never delays a batch; a failure costs one update of
 * Last Used and that call's observation count.
 */
import type { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
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
  /** Observations stored by the batch. */
  observations: number;
}

export class KeyUseRecorder {
  readonly #keys: KeysServiceClient;
  readonly #log: Logger;
  readonly #intervalMs: number;
  /** Key id → when this replica last reported it. */
  readonly #reportedAt = new Map<string, number>();
  /** Key id → its latest use not reported yet, with the observations stored since the last report. */
  readonly #unreported = new Map<string, KeyUse>();

  constructor(keys: KeysServiceClient, log: Logger, intervalMs = KEY_USE_INTERVAL_MS) {
    this.#keys = keys;
    this.#log = log;
    this.#intervalMs = intervalMs;
    // Unref'd: it never keeps the process alive, and it only reports what is already counted.
    setInterval(() => this.#sweep(), intervalMs).unref();
  }

  /** Notes a stored batch's use of its stream's key. */
  note(use: KeyUse): void {
    const now = Date.now();
    const pending = this.#unreported.get(use.keyId);
    const total = { ...use, observations: (pending?.observations ?? 0) + use.observations };
    const last = this.#reportedAt.get(use.keyId);
    if (last !== undefined && now - last < this.#intervalMs) {
      if (pending || this.#unreported.size < MAX_TRACKED_KEYS) this.#unreported.set(use.keyId, total);
      return;
    }
    this.#report(total, now);
  }

  #report(use: KeyUse, now: number): void {
    this.#unreported.delete(use.keyId);
    this.#reportedAt.delete(use.keyId);
    this.#reportedAt.set(use.keyId, now);
    if (this.#reportedAt.size > MAX_TRACKED_KEYS)
      this.#reportedAt.delete(this.#reportedAt.keys().next().value!);
    callUnary(this.#keys.recordKeyUse.bind(this.#keys), use).catch((err: unknown) =>
      this.#log.debug({ err, keyId: use.keyId }, "could not record the key's use; Last Used lags"),
    );
  }

  /** Reports uses held back whose interval has passed, so a stopped worker's last batches count too. */
  #sweep(): void {
    const now = Date.now();
    for (const use of [...this.#unreported.values()]) {
      const last = this.#reportedAt.get(use.keyId) ?? 0;
      if (now - last >= this.#intervalMs) this.#report(use, now);
    }
  }
}
