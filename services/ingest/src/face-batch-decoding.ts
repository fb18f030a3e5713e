/**
 * Decoding of StreamFaces requests that never breaks the stream. The generated decoder throws on a
 * uint64 `frame_seq` or `track_id` above 2^53 − 1 (it cannot be a JS number exactly), and a throwing
 * deserializer makes grpc-js end the whole call INTERNAL, after which the worker replays the same
 * batch on its next stream: a poison batch. Here such a batch decodes to its `batch_id` alone,
 * marked undecodable with the reason, so it is answered with a rejected ack (which the worker
 * drops) and the stream stays open.
 *
 * Why reject rather than decode losslessly: lossless decoding changes the generated type of both
 * fields (ts-proto's forceLong or jstype) for the worker, the event store, the REST mapping and
 * every integrator, for values no tracker or frame counter reaches (2^53 frames is 9.5 million
 * years at 30 fps).
 */

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";

/** The contract's limit on one encoded FaceBatch (ingest.proto); a larger batch is rejected by its ack. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * What the ingest server's transport accepts, above MAX_BATCH_BYTES so that every batch the contract
 * allows otherwise (256 observations with 64 KiB thumbnails and 2048-d embeddings: about 18.1 MiB)
 * reaches the handler and is answered with a rejection that says to split it, rather than ending
 * the stream with RESOURCE_EXHAUSTED, which workers read as "too many streams".
 */
export const MAX_MESSAGE_BYTES = 20 * 1024 * 1024;

/** Field numbers of the contract (ingest.proto) that the fallback reader needs. */
const BATCH_ID = 1;
const OBSERVATIONS = 5;
const UINT64_FIELDS: Record<number, string> = { 2: "frame_seq", 10: "track_id" };

/** Why a batch could not be decoded: its ack's reason, and the `<field>: <description>` problem. */
export interface DecodingProblem {
  reason: "invalid_batch" | "batch_too_large";
  problem: string;
}

const undecodable = new WeakMap<FaceBatch, DecodingProblem>();

/** The deserializer of StreamFaces requests: never throws. */
export function decodeFaceBatch(bytes: Buffer): FaceBatch {
  if (bytes.length > MAX_BATCH_BYTES) {
    const batch = FaceBatch.fromPartial({ batchId: readBatchId(bytes) });
    undecodable.set(batch, {
      reason: "batch_too_large",
      problem: `batch: ${bytes.length} bytes encoded; a batch is at most ${MAX_BATCH_BYTES} bytes (4 MiB): split it into smaller batches`,
    });
    return batch;
  }
  try {
    return FaceBatch.decode(bytes);
  } catch (err) {
    const batch = FaceBatch.fromPartial({ batchId: readBatchId(bytes) });
    undecodable.set(batch, { reason: "invalid_batch", problem: explain(bytes, err) });
    return batch;
  }
}

/** Why `batch` could not be decoded, or undefined when it was decoded normally. */
export function decodingProblem(batch: FaceBatch): DecodingProblem | undefined {
  return undecodable.get(batch);
}

function readBatchId(bytes: Buffer): string {
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === BATCH_ID && wireType === WireType.LengthDelimited) return reader.string();
      reader.skip(wireType);
    }
  } catch {
    // Not even the envelope parses: the ack carries no batch id.
  }
  return "";
}

/** Names the first 64-bit field out of range, as `observations[i].<field>: <value> ...`. */
function explain(bytes: Buffer, err: unknown): string {
  try {
    const reader = new BinaryReader(bytes);
    let index = 0;
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== OBSERVATIONS || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType);
        continue;
      }
      const observation = new BinaryReader(reader.bytes());
      while (observation.pos < observation.len) {
        const [inner, innerType] = observation.tag();
        const name = UINT64_FIELDS[inner];
        if (name && innerType === WireType.Varint) {
          const value = BigInt(observation.uint64());
          if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
            return `observations[${index}].${name}: ${value} is above 2^53 - 1, the largest value this server stores exactly`;
          }
        } else {
          observation.skip(innerType);
        }
      }
      index++;
    }
  } catch {
    // Fall through to the decoder's own message.
  }
  return `batch: not a valid FaceBatch message (${(err as Error)?.message ?? String(err)})`;
}
