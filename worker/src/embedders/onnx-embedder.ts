// An embedder backed by one ONNX model whose manifest entry says how to feed it.

import { cropOf, type FaceCrop } from "../aligner.ts";
import type { RgbImage } from "../image.ts";
import { toInputTensor } from "../models/input-tensor.ts";
import type { EmbedderEntry } from "../models/manifest.ts";
import { type ModelSession, openSession, ort } from "../models/onnx-session.ts";
import { type Embedder, l2Normalise } from "./embedder.ts";

export class OnnxEmbedder implements Embedder {
  readonly model: string;
  readonly dim: number;
  readonly crop: FaceCrop;
  readonly #session: ModelSession;
  readonly #entry: EmbedderEntry;
  readonly #inputName: string;
  readonly #outputName: string;
  /** Largest batch the model accepts in one run: 1 for exports with a fixed batch dimension. */
  readonly #maxBatch: number;

  constructor(session: ModelSession, entry: EmbedderEntry, maxBatch = 32) {
    this.#session = session;
    this.#entry = entry;
    this.model = entry.id;
    this.dim = entry.embeddingDim;
    this.crop = cropOf(entry);
    this.#inputName = session.inputNames[0]!;
    this.#outputName = session.outputNames[0]!;
    const meta = session.inputMetadata[0];
    const batchDim = meta?.isTensor ? meta.shape[0] : undefined;
    this.#maxBatch = typeof batchDim === "number" && batchDim > 0 ? batchDim : maxBatch;
  }

  static async open(modelsDir: string, entry: EmbedderEntry): Promise<OnnxEmbedder> {
    return new OnnxEmbedder(await openSession(modelsDir, entry), entry);
  }

  async embed(faces: readonly RgbImage[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < faces.length; start += this.#maxBatch) {
      const batch = faces.slice(start, start + this.#maxBatch);
      const { width, height, layout } = this.#entry.input;
      const dims = layout === "NHWC" ? [batch.length, height, width, 3] : [batch.length, 3, height, width];
      const input = new ort.Tensor("float32", toInputTensor(batch, this.#entry.input), dims);
      const result = await this.#session.run({ [this.#inputName]: input });
      const values = result[this.#outputName]!.data as Float32Array;
      if (values.length !== batch.length * this.dim) {
        throw new Error(
          `${this.model}: expected ${this.dim} values per face, got ${values.length / batch.length}`,
        );
      }
      for (let i = 0; i < batch.length; i++)
        out.push(l2Normalise(values.slice(i * this.dim, (i + 1) * this.dim)));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
