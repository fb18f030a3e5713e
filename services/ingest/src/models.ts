/** The ingest service's collections. Only this service reads or writes them. */
import { type Connection, type InferSchemaType, Schema } from "mongoose";

/**
 * One stored observation, in the collection of its tenant and hour of capture, `events_<yyyymmddhh>`
 * in the database of that tenant and day (see event-partitions.ts: hours, not one collection,
 * because FerretDB reads whole collections). `_id`
 * is the event id, derived from (tenantId, batchId, batchIndex) and the hour (see event-store.ts):
 * the always-present unique `_id` index is what makes a replayed batch, or the rest of a half-written
 * one, a no-op. Written and read through the driver, so it has no mongoose schema.
 */
export interface FaceEventDoc {
  _id: string;
  tenantId: string;
  batchId: string;
  /** Position of the observation in its batch. */
  batchIndex: number;
  workerId: string;
  siteId: string;
  cameraId: string;
  keyId: string;
  capturedAt: Date;
  receivedAt: Date;
  frameSeq: number;
  bbox: { x: number; y: number; width: number; height: number };
  landmarks: number[];
  detScore: number;
  /** Little-endian float32 values as BinData, never an array of numbers. */
  embedding: Buffer;
  embeddingDim: number;
  model: string;
  quality: number;
  trackId: number;
  hasThumbnail: boolean;
  /** JPEG crop as BinData; absent when the worker sent none. */
  thumbnail?: Buffer;
  /**
   * The enrolled person this observation was matched to (people service id), or null when no
   * gallery face of its tenant and model reached the tenant's threshold, or no gallery was known yet.
   * Absent on events stored before matching existed (read as null).
   */
  personId?: string | null;
  /** Cosine similarity to the matched face (embeddings are L2-normalised); null when unmatched. */
  similarity?: number | null;
  /** The matched gallery face (people service face id); null when unmatched. */
  faceId?: string | null;
}

/**
 * What one ingest replica knows about one worker, rewritten every WORKER_HEARTBEAT_MS while the
 * worker is connected there. ListWorkers on any replica merges the rows of all replicas; a row whose
 * heartbeat stopped (its replica died) no longer counts as connected.
 */
const workerPresenceSchema = new Schema(
  {
    /** `${replicaId}:${tenantId}:${workerId}` */
    _id: { type: String, required: true },
    replicaId: { type: String, required: true },
    tenantId: { type: String, required: true },
    workerId: { type: String, required: true },
    keyId: { type: String, required: true },
    keyName: { type: String, required: true },
    siteId: { type: String, default: "" },
    cameraId: { type: String, default: "" },
    remoteAddress: { type: String, default: "" },
    streamCount: { type: Number, required: true },
    /** How the worker's last stream on this replica ended; "" while one is open. */
    disconnectReason: { type: String, default: "" },
    connectedSince: { type: Date, default: null },
    lastBatchAt: { type: Date, default: null },
    lastSeenAt: { type: Date, required: true },
    observationsPerMinute: { type: Number, required: true },
    heartbeatAt: { type: Date, required: true },
  },
  { collection: "ingest_worker_presence", versionKey: false },
);
workerPresenceSchema.index({ tenantId: 1, lastSeenAt: -1 });
workerPresenceSchema.index({ lastSeenAt: 1 });

export type WorkerPresenceDoc = InferSchemaType<typeof workerPresenceSchema> & { _id: string };

export async function ingestModels(connection: Connection) {
  const models = {
    workerPresence: connection.model("WorkerPresence", workerPresenceSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  // The event collections are made per hour as events arrive (event-partitions.ts).
  return { ...models, database: connection.db! };
}

export type IngestModels = Awaited<ReturnType<typeof ingestModels>>;
