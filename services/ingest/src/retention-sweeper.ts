/**
 * Deletes events captured longer ago than EVENT_RETENTION_DAYS, and forgets workers not seen for as
 * long. A job rather than a TTL index because FerretDB has none; every replica may run it, the
 * deletes are idempotent. Events go by whole hours (EventStore drops an hour's collections once the
 * hour has expired), so an event outlives its retention by at most an hour.
 */
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { EventStore } from "./event-store.ts";
import type { WorkerRegistry } from "./worker-registry.ts";

export class RetentionSweeper {
  readonly #store: EventStore;
  readonly #registry: WorkerRegistry;
  readonly #retentionMs: number;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #sweeping: Repeating | undefined;

  constructor(opts: {
    store: EventStore;
    registry: WorkerRegistry;
    retentionMs: number;
    intervalMs: number;
    log: Logger;
  }) {
    this.#store = opts.store;
    this.#registry = opts.registry;
    this.#retentionMs = opts.retentionMs;
    this.#intervalMs = opts.intervalMs;
    this.#log = opts.log;
  }

  /** Sweeps now, then every interval. */
  start(): void {
    this.#sweeping = repeat(() => this.sweep(), {
      everyMs: this.#intervalMs,
      now: true,
      onError: (err) => this.#log.warn({ err }, "retention sweep failed; retrying"),
    });
  }

  /** Waits for a sweep in flight. */
  async stop(): Promise<void> {
    await this.#sweeping?.stop();
  }

  /** One sweep; returns how many events were deleted. */
  async sweep(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.#retentionMs);
    const events = await this.#store.deleteCapturedBefore(cutoff);
    const workers = await this.#registry.forgetSeenBefore(cutoff);
    if (events > 0 || workers > 0)
      this.#log.info({ events, workers, cutoff }, "retention sweep deleted old data");
    return events;
  }
}
