/** The people service's collections. Only this service reads or writes them. */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { type Connection, type InferSchemaType, Schema } from "mongoose";

const personSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    displayName: { type: String, required: true },
    /** displayName in lower case, for case-insensitive prefix filters. */
    nameKey: { type: String, required: true },
    externalId: { type: String, default: "" },
    /**
     * Unique per tenant: `x:<externalId>`, or `id:<_id>` when there is none. FerretDB 1.24 has no
     * partial indexes, so a plain unique index on externalId would allow only one person without.
     */
    externalIdKey: { type: String, required: true },
    notes: { type: String, default: "" },
    labels: { type: [String], default: [] },
    watchlist: { type: Boolean, default: false },
    faceCount: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: "people", versionKey: false },
);
personSchema.index({ tenantId: 1, createdAt: -1, _id: -1 });
personSchema.index({ tenantId: 1, externalIdKey: 1 }, { unique: true });

const embeddingSchema = new Schema(
  {
    model: { type: String, required: true },
    dim: { type: Number, required: true },
    /** Little-endian float32, L2-normalised. */
    vector: { type: Buffer, required: true },
  },
  { _id: false },
);

const faceSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    personId: { type: String, required: true },
    /** Where the face was in the enrolment photo. */
    box: { x: Number, y: Number, width: Number, height: Number },
    detScore: { type: Number, required: true },
    detector: { type: String, required: true },
    /** The face aligned to the 112x112 ArcFace layout, JPEG: the thumbnail. */
    cropJpeg: { type: Buffer, required: true },
    cropSize: { type: Number, required: true },
    /**
     * The photo's square region around the face (JPEG) and the detector's landmarks in it: what any
     * embedder's own alignment can be run on again, so a model added later needs no re-enrolment.
     */
    regionJpeg: { type: Buffer, required: true },
    regionLandmarks: { type: [Number], default: [] },
    embeddings: { type: [embeddingSchema], default: [] },
    /** The event it was enrolled from (its thumbnail is the crop and the region); "" for a photo. */
    eventId: { type: String, default: "" },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: "person_faces", versionKey: false },
);
faceSchema.index({ tenantId: 1, personId: 1, createdAt: 1 });

/**
 * The gallery's change feed: one row per face added or removed, or per tenant whose thresholds
 * changed, read by every replica to keep its in-memory index current without change streams (and
 * by WatchGallery subscribers that resume). Rows older than an hour are swept.
 */
const galleryChangeSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    kind: { type: String, enum: ["added", "removed", "thresholds"], required: true },
    /** Empty for `thresholds`. */
    faceId: { type: String, default: "" },
    personId: { type: String, default: "" },
    at: { type: Date, required: true },
  },
  { collection: "gallery_changes", versionKey: false },
);
galleryChangeSchema.index({ at: 1 });

/** A tenant's own match thresholds (GET/PUT /v1/settings/recognition); absent: the defaults. */
const recognitionSettingsSchema = new Schema(
  {
    /** The tenant id. */
    _id: { type: String, required: true },
    /** Cosine threshold by embedding model id. */
    thresholds: { type: Map, of: Number, default: {} },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: "recognition_settings", versionKey: false },
);

/**
 * A deleted person's observations still to be erased in ingest (ErasePersonObservations): written
 * before the person is deleted, removed once ingest confirmed and the erasure is audited, retried
 * until then (person-erasures.ts).
 */
const personErasureSchema = new Schema(
  {
    /** The deleted person's id. */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** Delete their events and sightings (a data-subject erasure) rather than unmatch them. */
    purge: { type: Boolean, required: true },
    /** Who deleted the person, for the audit record of the erasure. */
    actor: { type: Object, required: true },
    requestedAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lastError: { type: String, default: "" },
    /** Set once ingest confirmed, with what it changed; the row goes once that is audited. */
    erasedAt: { type: Date, default: null },
    erasedEvents: { type: Number, default: 0 },
    erasedSightings: { type: Number, default: 0 },
  },
  { collection: "person_erasures", versionKey: false },
);
personErasureSchema.index({ nextAttemptAt: 1 });

export type PersonDoc = InferSchemaType<typeof personSchema> & { _id: string };
export type FaceDoc = InferSchemaType<typeof faceSchema> & { _id: string };
export type GalleryChangeDoc = InferSchemaType<typeof galleryChangeSchema> & { _id: string };
export type PersonErasureDoc = InferSchemaType<typeof personErasureSchema> & { _id: string; actor: Actor };
export interface RecognitionSettingsDoc {
  _id: string;
  thresholds: Record<string, number>;
  updatedAt: Date;
  updatedBy: string;
}

export async function peopleModels(connection: Connection) {
  const models = {
    people: connection.model("Person", personSchema),
    faces: connection.model("PersonFace", faceSchema),
    galleryChanges: connection.model("GalleryChange", galleryChangeSchema),
    recognitionSettings: connection.model("RecognitionSettings", recognitionSettingsSchema),
    personErasures: connection.model("PersonErasure", personErasureSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}

export type PeopleModels = Awaited<ReturnType<typeof peopleModels>>;
