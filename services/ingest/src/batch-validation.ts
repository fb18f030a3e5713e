/**
 * The rules a FaceBatch must meet before anything is written. Every violation is reported to the
 * worker in its ack (`violations`, and `error` as `<field path>: <what is wrong>; …`), so the
 * worker's log says exactly which observations and fields to fix.
 */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import type {
  BoundingBox,
  FaceBatch,
  FaceObservation,
  FieldViolation,
  IngestAck,
} from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import type { IngestAckReason } from "@facerec/proto/failure-codes.ts";
import { decodingProblem } from "./face-batch-decoding.ts";

export const MAX_OBSERVATIONS_PER_BATCH = 256;
export const MAX_THUMBNAIL_BYTES = 64 * 1024;
/**
 * Accepted embedding sizes: any model's, within a bound (128 dlib/sface, 512 insightface, 1024
 * faceres, ...), so adding a model to the worker's manifest needs no change here. The bound only
 * rejects nonsense: under 64 values nothing recognizes a face, over 2048 no face model in use
 * comes close.
 */
export const EMBEDDING_DIM_BOUNDS = { min: 64, max: 2048 } as const;
/** How far from 1 an embedding's L2 norm may be. */
export const EMBEDDING_NORM_TOLERANCE = 0.01;
/** Worker clocks drift; a capture time further ahead than this is a broken clock, not drift. */
export const MAX_CAPTURE_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** 68 x/y points, the largest common landmark scheme; the detectors in use send 4 or 5. */
export const MAX_LANDMARK_VALUES = 136;

const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MODEL = /^[A-Za-z0-9._/-]{1,100}$/;

export interface ValidationContext {
  now: number;
  /** Captures older than this many ms would be swept at once; refuse them. */
  retentionMs: number;
}

/** Violations an ack lists at most; a batch of 256 broken observations would otherwise carry thousands. */
export const MAX_VIOLATIONS = 100;

/** Why a batch is refused: a stable code (IngestAck.reason, from the failure-code table) and every rule it breaks. */
export interface Rejection {
  reason: IngestAckReason;
  violations: FieldViolation[];
}

/** A rejection for one field. */
export function rejection(reason: Rejection["reason"], field: string, description: string): Rejection {
  return { reason, violations: [{ field, description }] };
}

/** Returns why the batch must be refused, or undefined when it may be stored. */
export function validateBatch(batch: FaceBatch, context: ValidationContext): Rejection | undefined {
  const undecodable = decodingProblem(batch);
  if (undecodable) return { reason: undecodable.reason, violations: [violation(undecodable.problem)] };
  const problems: string[] = [];
  if (!BATCH_ID.test(batch.batchId)) problems.push("batch_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
  const names = [
    ["worker_id", batch.workerId],
    ["site_id", batch.siteId],
    ["camera_id", batch.cameraId],
  ] as const;
  for (const [field, value] of names) {
    if (!NAME_ID.test(value)) problems.push(`${field}: must be 1 to 64 characters of [A-Za-z0-9._-]`);
  }
  const count = batch.observations.length;
  if (count < 1 || count > MAX_OBSERVATIONS_PER_BATCH) {
    problems.push(`observations: ${count} observations; a batch carries 1 to ${MAX_OBSERVATIONS_PER_BATCH}`);
  } else {
    for (let i = 0; i < count; i++) {
      for (const problem of validateObservation(batch.observations[i]!, context))
        problems.push(`observations[${i}].${problem}`);
    }
  }
  return problems.length === 0 ? undefined : { reason: "invalid_batch", violations: problems.map(violation) };
}

/** `<field>: <description>` as a FieldViolation. */
function violation(problem: string): FieldViolation {
  const colon = problem.indexOf(": ");
  return { field: problem.slice(0, colon), description: problem.slice(colon + 2) };
}

/**
 * The ack of a refused batch: the reason, the first MAX_VIOLATIONS violations, and the same as
 * text, `<field>: <description>; …`.
 */
export function rejectedAck(batchId: string, { reason, violations }: Rejection): IngestAck {
  const shown = violations.slice(0, MAX_VIOLATIONS);
  const more = violations.length - shown.length;
  const text = shown.map((v) => `${v.field}: ${v.description}`).join("; ");
  return {
    batchId,
    accepted: 0,
    duplicate: false,
    rejected: true,
    error: more > 0 ? `${text}; and ${more} more` : text,
    reason,
    violations: shown,
  };
}

function validateObservation(o: FaceObservation, context: ValidationContext): string[] {
  return [
    checkCapturedAt(o.capturedAt, context),
    checkEmbedding(o),
    checkBoundingBox(o.bbox),
    checkLandmarks(o.landmarks),
    checkUnitInterval("det_score", o.detScore),
    checkUnitInterval("quality", o.quality),
    MODEL.test(o.model) ? undefined : "model: must be 1 to 100 characters of [A-Za-z0-9._/-]",
    checkThumbnail(o.thumbnailJpeg),
  ].filter((problem) => problem !== undefined);
}

function checkCapturedAt(capturedAt: Date | undefined, { now, retentionMs }: ValidationContext) {
  if (!capturedAt) return "captured_at: missing";
  const at = capturedAt.getTime();
  if (!Number.isFinite(at)) return "captured_at: not a valid time";
  if (at > now + MAX_CAPTURE_CLOCK_SKEW_MS) {
    return `captured_at: ${capturedAt.toISOString()} is more than 5 minutes in the future`;
  }
  if (at < now - retentionMs) {
    const days = Math.round(retentionMs / 86_400_000);
    return `captured_at: ${capturedAt.toISOString()} is older than the ${days}-day retention window`;
  }
  return undefined;
}

function checkEmbedding(o: FaceObservation): string | undefined {
  const { min, max } = EMBEDDING_DIM_BOUNDS;
  if (!Number.isInteger(o.embeddingDim) || o.embeddingDim < min || o.embeddingDim > max) {
    return `embedding_dim: ${o.embeddingDim} is not within ${min}..${max}`;
  }
  const bytes = o.embedding;
  if (bytes.length !== o.embeddingDim * 4) return `embedding: length ${bytes.length} is not embedding_dim*4`;
  const values = embeddingValues(bytes);
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) return `embedding[${i}]: ${value} is not finite`;
    squares += value * value;
  }
  // The contract promises unit vectors (matching is a dot product); the tolerance admits any float
  // rounding a producer may add, not an unnormalised model output.
  const norm = Math.sqrt(squares);
  if (Math.abs(norm - 1) > EMBEDDING_NORM_TOLERANCE)
    return `embedding: L2 norm ${norm.toFixed(4)} is not 1 (within ${EMBEDDING_NORM_TOLERANCE}); send the L2-normalised vector`;
  return undefined;
}

function checkBoundingBox(bbox: BoundingBox | undefined): string | undefined {
  if (!bbox) return "bbox: missing";
  for (const edge of ["x", "y"] as const) {
    if (!(Number.isFinite(bbox[edge]) && bbox[edge] >= 0)) return `bbox.${edge}: must be finite and >= 0`;
  }
  for (const size of ["width", "height"] as const) {
    if (!(Number.isFinite(bbox[size]) && bbox[size] > 0)) return `bbox.${size}: must be finite and > 0`;
  }
  return undefined;
}

function checkLandmarks(landmarks: number[]): string | undefined {
  if (landmarks.length % 2 !== 0) return `landmarks: ${landmarks.length} values; x, y pairs expected`;
  if (landmarks.length > MAX_LANDMARK_VALUES) {
    return `landmarks: ${landmarks.length} values; at most ${MAX_LANDMARK_VALUES}`;
  }
  const bad = landmarks.findIndex((v) => !(Number.isFinite(v) && v >= 0));
  return bad === -1 ? undefined : `landmarks[${bad}]: must be finite and >= 0`;
}

function checkUnitInterval(field: string, value: number): string | undefined {
  return Number.isFinite(value) && value >= 0 && value <= 1
    ? undefined
    : `${field}: ${value} is not in [0, 1]`;
}

function checkThumbnail(jpeg: Buffer): string | undefined {
  if (jpeg.length === 0) return undefined;
  if (jpeg.length > MAX_THUMBNAIL_BYTES) return `thumbnail_jpeg: ${jpeg.length} bytes; at most 64 KiB`;
  // A JPEG starts with SOI (FF D8) followed by a marker, and ends with EOI (FF D9).
  const isJpeg =
    jpeg.length >= 4 &&
    jpeg[0] === 0xff &&
    jpeg[1] === 0xd8 &&
    jpeg[2] === 0xff &&
    jpeg[jpeg.length - 2] === 0xff &&
    jpeg[jpeg.length - 1] === 0xd9;
  return isJpeg ? undefined : "thumbnail_jpeg: not a JPEG (SOI/EOI markers missing)";
}
