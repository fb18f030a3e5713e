// Where observations go: the uplink (worker/src/uplink/) implements this to batch, queue and
// stream them to the ingest service.
import type { FaceObservation } from "@facerec/proto/facerec/ingest/v1/ingest.ts";

export type { FaceObservation };

export interface FaceSink {
  /**
   * Takes over one frame's observations. Resolves once they are accepted (buffered or queued); a
   * slow resolve is how the sink applies backpressure to the pipeline.
   */
  send(observations: readonly FaceObservation[]): Promise<void>;
  /** Flushes everything accepted so far to durable storage; called once at shutdown. */
  close(): Promise<void>;
}

/** The embedding as the contract wants it: little-endian float32 bytes. */
export function embeddingBytes(embedding: Float32Array): Buffer {
  const bytes = Buffer.alloc(embedding.length * 4);
  for (let i = 0; i < embedding.length; i++) bytes.writeFloatLE(embedding[i]!, i * 4);
  return bytes;
}
