/**
 * Which content each batch id was stored with, so that a batch id is an exact idempotency key: the
 * same id with the same content is a replay, the same id with other content is refused
 * (`batch_id_conflict`) before anything of it is written, instead of being merged into the first
 * batch's events or dropped as their duplicate.
 *
 * A claim is one small document per batch, `_id` the batch id, in `batches_<hour>` of the listing's
 * database, the hour being that of the batch's first capture: a replay has the same first capture,
 * so it finds its claim (by `_id`, a scan of one hour's claims, only ever on a replay or a conflict),
 * and retention drops claims with their hour. Two batches under one id whose first captures fall in
 * different hours are not compared: their events have different ids, so neither is lost.
 *
 * Claims are written like the listing's appends: the claims that arrive while one write is under
 * way go together in the next (one insertMany of at most CLAIMS_PER_WRITE), so streams at full speed
 * cost a few writes a second, not one per batch.
 */
import { createHash } from "node:crypto";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { onlyDuplicateKeys } from "@facerec/shared/db/duplicate-key.ts";
import type { mongo } from "mongoose";
import type { EventPartitions } from "./event-partitions.ts";

/** FerretDB must never get a large bulk write. */
const CLAIMS_PER_WRITE = 25;

interface ClaimDoc {
  _id: string;
  /** SHA-256 of the batch's encoding, base64url. */
  digest: string;
}

export type Claim = "new" | "replay" | "conflict";

interface Waiting {
  doc: ClaimDoc;
  resolve: (claim: Claim) => void;
  reject: (err: unknown) => void;
}

/** The claims of one partition: those waiting, and whether a write is under way. */
interface Queue {
  claims: mongo.Collection<ClaimDoc>;
  waiting: Waiting[];
  writing: boolean;
}

/** The batch's content, every field of it and its observations, as a digest. */
export function batchDigest(batch: FaceBatch): string {
  return createHash("sha256").update(FaceBatch.encode(batch).finish()).digest("base64url");
}

export class BatchClaims {
  readonly #partitions: EventPartitions;
  readonly #writeConcern: mongo.WriteConcernSettings;
  readonly #queues = new Map<string, Queue>();

  constructor(partitions: EventPartitions, writeConcern: mongo.WriteConcernSettings) {
    this.#partitions = partitions;
    this.#writeConcern = writeConcern;
  }

  /** Claims `batch`'s id for its content, unless it was claimed before; says which it was. */
  async claim(tenantId: string, batch: FaceBatch, firstCaptureHour: string): Promise<Claim> {
    const partition = this.#partitions.partition("batches", tenantId, firstCaptureHour);
    await this.#partitions.record(partition);
    const key = `${partition.db}/${partition.collection}`;
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = { claims: this.#partitions.open<ClaimDoc>(partition), waiting: [], writing: false };
      this.#queues.set(key, queue);
    }
    const target = queue;
    return new Promise<Claim>((resolve, reject) => {
      target.waiting.push({ doc: { _id: batch.batchId, digest: batchDigest(batch) }, resolve, reject });
      if (!target.writing) void this.#drain(key, target);
    });
  }

  async #drain(key: string, queue: Queue): Promise<void> {
    queue.writing = true;
    while (queue.waiting.length > 0) {
      const taken = queue.waiting.splice(0, CLAIMS_PER_WRITE);
      await this.#write(queue.claims, taken).catch((err: unknown) => {
        for (const w of taken) w.reject(err);
      });
    }
    queue.writing = false;
    this.#queues.delete(key);
  }

  async #write(claims: mongo.Collection<ClaimDoc>, taken: Waiting[]): Promise<void> {
    // A batch sent twice at once: its second claim is settled against the first, after the write.
    const fresh: Waiting[] = [];
    const repeats: Waiting[] = [];
    const ids = new Set<string>();
    for (const w of taken) {
      if (ids.has(w.doc._id)) repeats.push(w);
      else fresh.push(w);
      ids.add(w.doc._id);
    }
    const claimedBefore = new Set<number>();
    try {
      await claims.insertMany(
        fresh.map((w) => w.doc),
        { ordered: false, writeConcern: this.#writeConcern },
      );
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
      for (const e of [err.writeErrors].flat()) claimedBefore.add(e.index);
    }
    for (const [index, w] of fresh.entries()) if (!claimedBefore.has(index)) w.resolve("new");
    // Replays and conflicts: rare, so one read each.
    for (const w of [...fresh.filter((_, index) => claimedBefore.has(index)), ...repeats]) {
      const stored = await claims.findOne({ _id: w.doc._id });
      w.resolve(stored?.digest === w.doc.digest ? "replay" : "conflict");
    }
  }
}
