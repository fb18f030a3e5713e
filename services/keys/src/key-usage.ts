/**
 * Per-key, per-UTC-day usage counts: token exchanges, refusals by cause, observations streamed.
 * Counted in memory and written every FLUSH_MS as one `$inc` upsert per key and day, so the token
 * exchange hot path never waits for (or multiplies) database writes. Counts of the last interval
 * are lost if the process dies; a clean stop writes them.
 */
import type { KeyUsageDay } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { KeysModels, KeyUsageDoc } from "./models.ts";

const FLUSH_MS = 5000;
/** Pending key-days held at most; beyond it counting waits for the next write (bounded memory). */
const MAX_PENDING = 50_000;
const DAY_MS = 86_400_000;
export const MAX_USAGE_DAYS = 90;
const PRUNE_EVERY_MS = 3_600_000;

interface Pending {
  keyId: string;
  tenantId: string;
  day: string;
  exchanges: number;
  observations: number;
  refusals: Map<string, number>;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class KeyUsage {
  readonly #usage: KeysModels["keyUsage"];
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  #flushing: Repeating | undefined;
  #prunedAt = 0;

  constructor(models: KeysModels, log: Logger) {
    this.#usage = models.keyUsage;
    this.#log = log;
  }

  start(): void {
    this.#flushing = repeat(() => this.flush(), {
      everyMs: FLUSH_MS,
      onError: (err) => this.#log.warn({ err }, "could not write key usage"),
    });
  }

  /** Writes what is pending after any flush in flight. */
  async stop(): Promise<void> {
    await this.#flushing?.stop();
    await this.flush();
  }

  exchanged(keyId: string, tenantId: string): void {
    const p = this.#entry(keyId, tenantId);
    if (p) p.exchanges += 1;
  }

  refused(keyId: string, tenantId: string, code: string): void {
    const p = this.#entry(keyId, tenantId);
    if (p) p.refusals.set(code, (p.refusals.get(code) ?? 0) + 1);
  }

  streamed(keyId: string, tenantId: string, observations: number): void {
    const p = observations > 0 ? this.#entry(keyId, tenantId) : undefined;
    if (p) p.observations += observations;
  }

  #entry(keyId: string, tenantId: string): Pending | undefined {
    const day = dayOf(Date.now());
    const id = `${keyId}:${day}`;
    let p = this.#pending.get(id);
    if (!p) {
      if (this.#pending.size >= MAX_PENDING) return undefined;
      p = { keyId, tenantId, day, exchanges: 0, observations: 0, refusals: new Map() };
      this.#pending.set(id, p);
    }
    return p;
  }

  /** Forgets a deleted key's usage. */
  async forget(keyId: string): Promise<void> {
    for (const [id, p] of this.#pending) if (p.keyId === keyId) this.#pending.delete(id);
    await this.#usage.deleteMany({ keyId });
  }

  /** Writes what was counted; counts whose write fails are kept for the next try. */
  async flush(): Promise<void> {
    if (Date.now() - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = Date.now();
      await this.#usage
        .deleteMany({ day: { $lt: dayOf(Date.now() - MAX_USAGE_DAYS * DAY_MS) } })
        .catch((err: unknown) => this.#log.warn({ err }, "could not prune old key usage"));
    }
    const batch = [...this.#pending.entries()];
    this.#pending.clear();
    // One upsert at a time: FerretDB can hang on large bulk upserts.
    for (const [id, p] of batch) {
      const inc: Record<string, number> = { exchanges: p.exchanges, observations: p.observations };
      for (const [code, n] of p.refusals) inc[`refusals.${code}`] = n;
      try {
        await this.#usage.updateOne(
          { _id: id },
          { $inc: inc, $setOnInsert: { keyId: p.keyId, tenantId: p.tenantId, day: p.day } },
          { upsert: true },
        );
      } catch (err) {
        this.#log.warn({ err, keyId: p.keyId }, "could not write key usage; keeping it for the next try");
        const again = this.#entry(p.keyId, p.tenantId);
        if (again) {
          again.exchanges += p.exchanges;
          again.observations += p.observations;
          for (const [code, n] of p.refusals) again.refusals.set(code, (again.refusals.get(code) ?? 0) + n);
        }
      }
    }
  }

  /** The key's days ending today, oldest first, zeros included. The caller checked the key's tenant. */
  async days(keyId: string, tenantId: string, count: number): Promise<KeyUsageDay[]> {
    const today = Date.now();
    const days = Array.from({ length: count }, (_, i) => dayOf(today - (count - 1 - i) * DAY_MS));
    const rows = await this.#usage
      .find({ _id: { $in: days.map((d) => `${keyId}:${d}`) }, tenantId })
      .lean<KeyUsageDoc[]>();
    const byDay = new Map(rows.map((r) => [r.day, r]));
    return days.map((day) => {
      const row = byDay.get(day);
      return {
        day,
        tokenExchanges: row?.exchanges ?? 0,
        observations: row?.observations ?? 0,
        refusals: { ...(row?.refusals as Record<string, number> | undefined) },
      };
    });
  }
}
