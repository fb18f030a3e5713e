/**
 * The gallery's batch scorer on onnxruntime (already the worker's runtime): scores = queries ·
 * galleryᵀ (Gemm) and the best rows per query (TopK), on one intra-op thread without spinning, so
 * matching shares the machine's cores the way the worker's model sessions do. `npm run bench:match`
 * measures it against a bare Gemm + TopK.
 */

import {
  AttributeProto,
  AttributeProto_AttributeType,
  ModelProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from "@facerec/worker/src/models/onnx-gen/onnx/onnx.ts";
import ort from "onnxruntime-node";
import type { BatchScorer } from "./gallery-index.ts";

/** A graph input or output: numbers are fixed sizes, strings named (dynamic) ones. */
const tensor = (name: string, elemType: TensorProto_DataType, dims: (number | string)[]): ValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
    },
  },
});
const matrix = (name: string, rows: string, cols: string) =>
  tensor(name, TensorProto_DataType.FLOAT, [rows, cols]);

/** scores[b, r] = Σ_i q[b, i] · g[r, i] (Gemm with transB), then the `take` best r per b (TopK). */
export function gemmModel(): Uint8Array {
  return ModelProto.encode(
    ModelProto.fromPartial({
      irVersion: 7,
      opsetImport: [{ domain: "", version: 13 }],
      producerName: "facerec people gallery",
      graph: {
        name: "gallery_scores",
        node: [
          {
            opType: "Gemm",
            input: ["q", "g"],
            output: ["scores"],
            attribute: [
              AttributeProto.fromPartial({ name: "transB", type: AttributeProto_AttributeType.INT, i: 1 }),
            ],
          },
          { opType: "TopK", input: ["scores", "take"], output: ["values", "indices"] },
        ],
        input: [
          matrix("q", "batch", "dim"),
          matrix("g", "faces", "dim"),
          tensor("take", TensorProto_DataType.INT64, [1]),
        ],
        output: [
          matrix("values", "batch", "take"),
          tensor("indices", TensorProto_DataType.INT64, ["batch", "take"]),
        ],
      },
    }),
  ).finish();
}

export const SCORER_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
};

export async function openGemmScorer(): Promise<{ scorer: BatchScorer; close(): Promise<void> }> {
  const session = await ort.InferenceSession.create(gemmModel(), SCORER_SESSION_OPTIONS);
  const scorer: BatchScorer = async (queries, batch, rows, count, dim, take) => {
    const result = await session.run({
      q: new ort.Tensor("float32", queries, [batch, dim]),
      g: new ort.Tensor("float32", rows, [count, dim]),
      take: new ort.Tensor("int64", BigInt64Array.of(BigInt(take)), [1]),
    });
    return {
      rows: result.indices!.data as BigInt64Array,
      scores: result.values!.data as Float32Array,
    };
  };
  return { scorer, close: () => session.release() };
}
