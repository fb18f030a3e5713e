/**
 * The gallery's batch scorer on onnxruntime (already the worker's runtime): one Gemm node,
 * scores = queries · galleryᵀ, on one intra-op thread without spinning, so matching shares the
 * machine's cores the way the worker's model sessions do. `npm run bench:match` measures it against
 * a bare Gemm + TopK.
 */
import type { BatchScorer } from "@facerec/shared/gallery/gallery-index.ts";
import {
  AttributeProto,
  AttributeProto_AttributeType,
  ModelProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from "@facerec/worker/src/models/onnx-gen/onnx/onnx.ts";
import ort from "onnxruntime-node";

const matrix = (name: string, rows: string, cols: string): ValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: TensorProto_DataType.FLOAT,
      shape: { dim: [{ dimParam: rows }, { dimParam: cols }] },
    },
  },
});

/** An ONNX model of one Gemm with transB: scores[b, r] = Σ_i q[b, i] · g[r, i]. */
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
        ],
        input: [matrix("q", "batch", "dim"), matrix("g", "faces", "dim")],
        output: [matrix("scores", "batch", "faces")],
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
  const scorer: BatchScorer = async (queries, batch, rows, count, dim) => {
    if (count === 0) return new Float32Array(0);
    const result = await session.run({
      q: new ort.Tensor("float32", queries, [batch, dim]),
      g: new ort.Tensor("float32", rows, [count, dim]),
    });
    return result.scores!.data as Float32Array;
  };
  return { scorer, close: () => session.release() };
}
