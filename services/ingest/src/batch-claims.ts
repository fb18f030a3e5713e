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
 * Claims are written like the events, in group commits (GroupedInserts): streams at full speed cost
 * a few writes a second, not one per batch.
 */
import { createHash } from "node:crypto";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { GroupedInserts } from "@facerec/shared/db/grouped-inserts.ts";
import type { mongo } from "mongoose";
import type { EventPartitions } from "./event-partitions.ts";

/** Claims per write: small documents, so a group rarely reaches this. */
const CLAIMS_PER_WRITE = 25;

interface ClaimDoc {
  _id: string;
  /** SHA-256 of the batch's encoding, base64url. */
  digest: string;
}

export type Claim = "new" | "replay" | "conflict";

/** The batch's content, every field of it and its observations, as a digest. */
export function batchDigest(batch: FaceBatch): string {
  return createHash("sha256").update(FaceBatch.encode(batch).finish()).digest("base64url");
}

export class BatchClaims {
  readonly #partitions: EventPartitions;
  readonly #inserts: GroupedInserts<ClaimDoc>;

  constructor(partitions: EventPartitions, writeConcern: mongo.WriteConcernSettings) {
    this.#partitions = partitions;
    this.#inserts = new GroupedInserts({ maxDocs: CLAIMS_PER_WRITE, writeConcern });
  }

  /** Claims `batch`'s id for its content, unless it was claimed before; says which it was. */
  async claim(tenantId: string, batch: FaceBatch, firstCaptureHour: string): Promise<Claim> {
    const partition = this.#partitions.partition("batches", tenantId, firstCaptureHour);
    await this.#partitions.record(partition);
    const claims = this.#partitions.open<ClaimDoc>(partition);
    const doc = { _id: batch.batchId, digest: batchDigest(batch) };
    const storedBefore = await this.#inserts.insert(claims, [doc]);
    if (storedBefore.size === 0) return "new";
    // A replay or a conflict (rare, so one read): the stored claim, perhaps another caller's of the
    // same write, says which.
    const stored = await claims.findOne({ _id: doc._id });
    return stored?.digest === doc.digest ? "replay" : "conflict";
  }
}
