/**
 * REST shapes of what the ingest service stores: workers and face events. Same conventions as
 * schemas.ts (proto3 JSON mapping: lowerCamelCase, RFC 3339 timestamps, 64-bit integers and bytes as
 * strings).
 */
import { z } from "zod";

const timestamp = z.iso.datetime({ offset: true });
const nameId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9._-]");

export const workerSchema = z
  .object({
    workerId: z.string(),
    keyId: z.string().meta({ description: "API key of its most recent stream." }),
    keyName: z.string(),
    siteId: z.string(),
    cameraId: z.string(),
    remoteAddress: z.string(),
    connected: z.boolean().meta({ description: "True while at least one stream is open." }),
    connectedSince: timestamp.nullable(),
    lastBatchAt: timestamp.nullable(),
    lastSeenAt: timestamp,
    observationsPerMinute: z.number().int().meta({ description: "Observations stored in the last 60 s." }),
    streamCount: z.number().int(),
    disconnectReason: z.string().nullable().meta({
      description:
        "Why its last stream ended, while disconnected (null while connected): worker_closed, connection_lost, key_inactive, key_deleted, key_expired, token_revoked, token_expired, worker_id_changed, or the failure code the server ended it with (e.g. shutting_down, storage_unavailable; README.md lists them).",
      example: "key_inactive",
    }),
  })
  .meta({ id: "Worker" });

export const workerListResponse = z
  .object({ workers: z.array(workerSchema) })
  .meta({ id: "WorkerList", description: "Connected workers and workers seen in the last 24 hours." });

export const eventsQuery = z
  .strictObject({
    siteId: nameId.optional(),
    cameraId: nameId.optional(),
    workerId: nameId.optional(),
    personId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: "Only events matched to this person (GET /v1/people/{id})." }),
    from: timestamp.optional().meta({ description: "Captured at or after (RFC 3339)." }),
    to: timestamp.optional().meta({ description: "Captured before (RFC 3339)." }),
    pageSize: z.coerce.number().int().min(1).max(500).optional().meta({ description: "Default 100." }),
    pageToken: z.string().max(200).optional(),
    includeEmbeddings: z
      .stringbool()
      .optional()
      .meta({ description: "Add each event's embedding (base64 little-endian float32)." }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: "from must be before to",
    path: ["from"],
  });

export const faceEventSchema = z
  .object({
    id: z.string(),
    batchId: z.string(),
    workerId: z.string(),
    siteId: z.string(),
    cameraId: z.string(),
    keyId: z.string(),
    capturedAt: timestamp,
    receivedAt: timestamp,
    frameSeq: z.string().meta({ description: "uint64 as a decimal string (proto3 JSON)." }),
    bbox: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
    landmarks: z.array(z.number()).meta({ description: "x, y pairs in pixels of the frame." }),
    detScore: z.number(),
    embeddingDim: z.number().int(),
    model: z.string(),
    quality: z.number(),
    trackId: z.string().meta({ description: "uint64 as a decimal string (proto3 JSON); 0 when untracked." }),
    thumbnailUrl: z.string().nullable().meta({ description: "Where the JPEG crop is, when one was sent." }),
    personId: z.string().nullable().meta({
      description:
        "The enrolled person the face was matched to when it was stored; null when no enrolled face of the tenant and model reached the tenant's threshold (GET /v1/settings/recognition).",
      example: "5f0c3c3e-8d4b-4a53-9a55-2f0d1d7c9a10",
    }),
    similarity: z.number().nullable().meta({
      description:
        "Cosine similarity to the matched face; with tracked observations, the track's best so far (every observation of a track names one person). Null when unmatched.",
      example: 0.947,
    }),
    faceId: z.string().nullable().meta({ description: "The matched enrolled face; null when unmatched." }),
    embedding: z
      .string()
      .optional()
      .meta({ description: "Base64 little-endian float32; only with includeEmbeddings=true." }),
  })
  .meta({ id: "FaceEvent" });

export const eventListResponse = z
  .object({ events: z.array(faceEventSchema), nextPageToken: z.string() })
  .meta({ id: "FaceEventList" });

export const jpegBody = z.string().meta({ format: "binary", description: "A JPEG image." });
