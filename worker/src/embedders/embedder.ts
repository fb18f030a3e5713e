// The one interface every face embedder implements, and the vector maths they share.
import type { FaceCrop } from "../aligner.ts";
import type { RgbImage } from "../image.ts";

export interface Embedder {
  /** Model id sent with every observation, e.g. `dlib/resnet-v1-128`. */
  readonly model: string;
  readonly dim: number;
  /** The aligned crop `embed` expects (size and landmark template). */
  readonly crop: FaceCrop;
  /** One L2-normalised embedding per face aligned to `crop`, in order. */
  embed(faces: readonly RgbImage[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Scales `v` to unit length in place and returns it. */
export function l2Normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/** Cosine similarity of two L2-normalised embeddings. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
