/** The ingest service's collections. Only this service reads or writes them. */
import { type Connection, type InferSchemaType, Schema } from "mongoose";

const boundingBoxSchema = new Schema({ x: Number, y: Number, width: Number, height: Number }, { _id: false });

/**
 * One document per observation. `_id` is the event id, derived from (tenantId, batchId, batchIndex)
 * (see event-store.ts): the always-present unique `_id` index is what makes a replayed batch, or the
 * rest of a half-written one, a no-op.
 */
const faceEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    batchId: { type: String, required: true },
    /** Position of the observation in its batch. */
    batchIndex: { type: Number, required: true },
    workerId: { type: String, required: true },
    siteId: { type: String, required: true },
    cameraId: { type: String, required: true },
    keyId: { type: String, required: true },
    capturedAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    frameSeq: { type: Number, required: true },
    bbox: { type: boundingBoxSchema, required: true },
    landmarks: { type: [Number], default: [] },
    detScore: { type: Number, required: true },
    /** Little-endian float32 values as BinData, never an array of numbers. */
    embedding: { type: Buffer, required: true },
    embeddingDim: { type: Number, required: true },
    model: { type: String, required: true },
    quality: { type: Number, required: true },
    trackId: { type: Number, required: true },
    hasThumbnail: { type: Boolean, required: true },
    /** JPEG crop as BinData; absent when the worker sent none. */
    thumbnail: { type: Buffer },
  },
  { collection: "face_events", versionKey: false },
);
// Listing: a tenant's events newest first, the cursor's tie-breaker included.
faceEventSchema.index({ tenantId: 1, capturedAt: -1, _id: -1 });
// The retention sweeper's range delete across tenants.
faceEventSchema.index({ capturedAt: 1 });

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

export type FaceEventDoc = InferSchemaType<typeof faceEventSchema> & { _id: string };
export type WorkerPresenceDoc = InferSchemaType<typeof workerPresenceSchema> & { _id: string };

export async function ingestModels(connection: Connection) {
  const models = {
    faceEvents: connection.model("FaceEvent", faceEventSchema),
    workerPresence: connection.model("WorkerPresence", workerPresenceSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}

export type IngestModels = Awaited<ReturnType<typeof ingestModels>>;
