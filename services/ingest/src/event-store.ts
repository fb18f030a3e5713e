/**
 * Data access for face events: the hot write path (one insertMany per batch) and the reads behind
 * the internal query API.
 *
 * Exactly-once in effect without transactions: every observation's `_id` is derived from
 * (tenant, batch id, position in the batch), and the batch is written with one unordered insertMany.
 * A replay finds every `_id` taken and stores nothing (a duplicate). If the process or the database
 * died half-way through the first write, the replay inserts exactly the missing observations and
 * skips the rest, so the batch ends complete with no observation twice.
 */
import { createHash } from "node:crypto";
import type { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import type { FaceEvent } from "@facerec/proto/facerec/ingest/v1/ingest_query.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { mongo } from "mongoose";
import type { FaceEventDoc, IngestModels } from "./models.ts";

/** Acknowledged by a majority and journaled: an ack must survive losing the primary. */
export const DURABLE_WRITE = { w: "majority", j: true } as const;
const DUPLICATE_KEY = 11000;
const DEFAULT_PAGE_SIZE = 100;

/** Who sent a batch: taken from the stream's verified token, never from the batch. */
export interface BatchOrigin {
  tenantId: string;
  keyId: string;
}

export interface StoredBatch {
  /** Observations this call wrote. */
  accepted: number;
  /** True when every observation was already stored. */
  duplicate: boolean;
}

export interface EventQuery {
  siteId?: string;
  cameraId?: string;
  workerId?: string;
  from?: Date | undefined;
  to?: Date | undefined;
  pageSize: number;
  pageToken: string;
  includeEmbeddings: boolean;
}

/** 22 base64url characters (132 bits) of SHA-256 over the observation's identity. */
export function eventId(tenantId: string, batchId: string, batchIndex: number): string {
  return createHash("sha256")
    .update(`${tenantId}\n${batchId}\n${batchIndex}`)
    .digest("base64url")
    .slice(0, 22);
}

/** The documents a validated batch is stored as, one per observation (exported for the benchmark's baseline). */
export function toEventDocuments(origin: BatchOrigin, batch: FaceBatch, receivedAt: Date): FaceEventDoc[] {
  return batch.observations.map(
    (o, batchIndex): FaceEventDoc => ({
      _id: eventId(origin.tenantId, batch.batchId, batchIndex),
      tenantId: origin.tenantId,
      batchId: batch.batchId,
      batchIndex,
      workerId: batch.workerId,
      siteId: batch.siteId,
      cameraId: batch.cameraId,
      keyId: origin.keyId,
      capturedAt: o.capturedAt!,
      receivedAt,
      frameSeq: o.frameSeq,
      bbox: { x: o.bbox!.x, y: o.bbox!.y, width: o.bbox!.width, height: o.bbox!.height },
      landmarks: o.landmarks,
      detScore: o.detScore,
      // A Buffer is stored as BinData; the driver copies it while serialising.
      embedding: o.embedding,
      embeddingDim: o.embeddingDim,
      model: o.model,
      quality: o.quality,
      trackId: o.trackId,
      hasThumbnail: o.thumbnailJpeg.length > 0,
      ...(o.thumbnailJpeg.length > 0 ? { thumbnail: o.thumbnailJpeg } : {}),
    }),
  );
}

export class EventStore {
  readonly #events: IngestModels["faceEvents"];
  /** The same collection through the driver, typed for string ids (mongoose types it for ObjectIds). */
  readonly #eventsCollection: mongo.Collection<FaceEventDoc>;

  constructor(models: IngestModels) {
    this.#events = models.faceEvents;
    this.#eventsCollection = models.faceEvents.collection as unknown as mongo.Collection<FaceEventDoc>;
  }

  /** Stores a validated batch; throws when the database fails (nothing may be acknowledged then). */
  async insertBatch(origin: BatchOrigin, batch: FaceBatch, receivedAt: Date): Promise<StoredBatch> {
    const documents = toEventDocuments(origin, batch, receivedAt);
    try {
      // The driver-level insert skips mongoose's per-document casting: the batch is already validated.
      const result = await this.#eventsCollection.insertMany(documents, {
        ordered: false,
        writeConcern: DURABLE_WRITE,
      });
      return { accepted: result.insertedCount, duplicate: false };
    } catch (err) {
      if (!(err instanceof mongo.MongoBulkWriteError) || !onlyDuplicateKeys(err)) throw err;
      const accepted = err.result.insertedCount;
      return { accepted, duplicate: accepted === 0 };
    }
  }

  async list(tenantId: string, query: EventQuery): Promise<{ events: FaceEvent[]; nextPageToken: string }> {
    const size = clampPageSize(query.pageSize, DEFAULT_PAGE_SIZE);
    const capturedAt = {
      ...(query.from ? { $gte: query.from } : {}),
      ...(query.to ? { $lt: query.to } : {}),
    };
    const filter = {
      tenantId,
      ...(query.siteId ? { siteId: query.siteId } : {}),
      ...(query.cameraId ? { cameraId: query.cameraId } : {}),
      ...(query.workerId ? { workerId: query.workerId } : {}),
      ...(Object.keys(capturedAt).length > 0 ? { capturedAt } : {}),
      ...afterCursor("capturedAt", query.pageToken),
    };
    const projection = query.includeEmbeddings ? { thumbnail: 0 } : { thumbnail: 0, embedding: 0 };
    const rows = await this.#events
      .find(filter, projection)
      .sort({ capturedAt: -1, _id: -1 })
      .limit(size + 1)
      .lean<FaceEventDoc[]>();
    const page = toPage(rows, size, (row) => row.capturedAt);
    return { events: page.rows.map(toFaceEvent), nextPageToken: page.nextPageToken };
  }

  /** The event's JPEG, or undefined when it is not the tenant's or has none. */
  async thumbnail(tenantId: string, id: string): Promise<Buffer | undefined> {
    const row = await this.#events
      .findOne({ _id: id, tenantId }, { thumbnail: 1 })
      .lean<Pick<FaceEventDoc, "thumbnail">>();
    return row?.thumbnail ? bytesOf(row.thumbnail) : undefined;
  }

  /** Deletes every tenant's events captured before `cutoff`; returns how many. */
  async deleteCapturedBefore(cutoff: Date): Promise<number> {
    const result = await this.#events.deleteMany({ capturedAt: { $lt: cutoff } });
    return result.deletedCount;
  }
}

function onlyDuplicateKeys(err: mongo.MongoBulkWriteError): boolean {
  const writeErrors = [err.writeErrors].flat();
  return (
    !err.writeConcernError && writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY)
  );
}

function toFaceEvent(row: FaceEventDoc): FaceEvent {
  return {
    id: row._id,
    batchId: row.batchId,
    workerId: row.workerId,
    siteId: row.siteId,
    cameraId: row.cameraId,
    keyId: row.keyId,
    capturedAt: row.capturedAt,
    receivedAt: row.receivedAt,
    frameSeq: row.frameSeq,
    bbox: {
      x: row.bbox.x ?? 0,
      y: row.bbox.y ?? 0,
      width: row.bbox.width ?? 0,
      height: row.bbox.height ?? 0,
    },
    landmarks: row.landmarks,
    detScore: row.detScore,
    embedding: row.embedding ? bytesOf(row.embedding) : Buffer.alloc(0),
    embeddingDim: row.embeddingDim,
    model: row.model,
    quality: row.quality,
    trackId: row.trackId,
    hasThumbnail: row.hasThumbnail,
  };
}
