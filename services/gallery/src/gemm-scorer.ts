/**
 * The gallery's scorer on onnxruntime (already the worker's runtime), both passes in one run on one
 * intra-op thread without spinning, so matching shares the machine's cores the way the worker's
 * model sessions do. `npm run bench:match` measures it against a bare float32 Gemm + TopK.
 */

import { type TensorProto, TensorProto_DataType } from "@facerec/worker/src/models/onnx-gen/onnx/onnx.ts";
import { encodeModel, int, valueInfo } from "@facerec/worker/src/models/onnx-graph.ts";
import ort from "onnxruntime-node";
import { type BatchScorer, QUERY_LEVELS } from "./gallery-index.ts";

const constant = (
  name: string,
  dataType: TensorProto_DataType,
  dims: number[],
  data: ArrayBufferView,
): Partial<TensorProto> => ({
  name,
  dims,
  dataType,
  rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
});

/**
 * 1. The queries' codes: clipped to ±clip, QuantizeLinear in steps of clip / QUERY_LEVELS, one
 *    column per query.
 * 2. coarse[b, r] = Σ_i row_codes[r, i] · query_codes[i, b] (MatMulInteger, u8×s8 into int32,
 *    transposed to one row per query), and the `take` best r per b (TopK). The row codes' offset
 *    needs no zero point: it adds the same 128 · Σ_i query_codes[i, b] to every coarse score of
 *    query b, which leaves its ranking as it is. The rows are the product's left side because they
 *    are stored one per face (any prefix of the buffer is the gallery).
 * 3. similarities[b, j] = rows[candidate[b, j]] · queries[b] (Gather, then a batched MatMul with the
 *    query as a column), sorted (TopK of all of them), with their rows as int32.
 */
export function scorerModel(): Uint8Array {
  return encodeModel("facerec people gallery", {
    name: "gallery_scores",
    node: [
      { opType: "Neg", input: ["clip"], output: ["negative_clip"] },
      { opType: "Clip", input: ["queries", "negative_clip", "clip"], output: ["clipped_queries"] },
      { opType: "Div", input: ["clip", "query_levels"], output: ["query_step"] },
      {
        opType: "QuantizeLinear",
        input: ["clipped_queries", "query_step", "int8_zero"],
        output: ["query_code_rows"],
      },
      { opType: "Transpose", input: ["query_code_rows"], output: ["query_codes"] },
      { opType: "MatMulInteger", input: ["row_codes", "query_codes"], output: ["coarse_by_row"] },
      { opType: "Transpose", input: ["coarse_by_row"], output: ["coarse"] },
      { opType: "TopK", input: ["coarse", "take"], output: ["coarse_best", "candidates"] },
      { opType: "Gather", input: ["rows", "candidates"], output: ["candidate_vectors"] },
      { opType: "Unsqueeze", input: ["queries", "last_axis"], output: ["query_columns"] },
      { opType: "MatMul", input: ["candidate_vectors", "query_columns"], output: ["similarity_columns"] },
      { opType: "Squeeze", input: ["similarity_columns", "last_axis"], output: ["unsorted"] },
      { opType: "TopK", input: ["unsorted", "take"], output: ["similarities", "order"] },
      {
        opType: "GatherElements",
        input: ["candidates", "order"],
        output: ["sorted_candidates"],
        attribute: [int("axis", 1)],
      },
      {
        opType: "Cast",
        input: ["sorted_candidates"],
        output: ["candidate_rows"],
        attribute: [int("to", TensorProto_DataType.INT32)],
      },
    ],
    initializer: [
      constant("query_levels", TensorProto_DataType.FLOAT, [], Float32Array.of(QUERY_LEVELS)),
      constant("int8_zero", TensorProto_DataType.INT8, [], Int8Array.of(0)),
      constant("last_axis", TensorProto_DataType.INT64, [1], BigInt64Array.of(2n)),
    ],
    input: [
      valueInfo("queries", TensorProto_DataType.FLOAT, ["batch", "dim"]),
      valueInfo("clip", TensorProto_DataType.FLOAT, []),
      valueInfo("row_codes", TensorProto_DataType.UINT8, ["faces", "dim"]),
      valueInfo("rows", TensorProto_DataType.FLOAT, ["faces", "dim"]),
      valueInfo("take", TensorProto_DataType.INT64, [1]),
    ],
    output: [
      valueInfo("candidate_rows", TensorProto_DataType.INT32, ["batch", "take"]),
      valueInfo("similarities", TensorProto_DataType.FLOAT, ["batch", "take"]),
    ],
  });
}

export const SCORER_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
};

/** The scorer's inputs for one batch. */
export function scorerFeeds({
  queries,
  batch,
  rows,
  rowCodes,
  count,
  dim,
  clip,
  take,
}: Parameters<BatchScorer>[0]): Record<string, ort.Tensor> {
  return {
    queries: new ort.Tensor("float32", queries, [batch, dim]),
    clip: new ort.Tensor("float32", Float32Array.of(clip), []),
    row_codes: new ort.Tensor("uint8", rowCodes, [count, dim]),
    rows: new ort.Tensor("float32", rows, [count, dim]),
    take: new ort.Tensor("int64", BigInt64Array.of(BigInt(take)), [1]),
  };
}

export async function openGemmScorer(): Promise<{ scorer: BatchScorer; close(): Promise<void> }> {
  const session = await ort.InferenceSession.create(scorerModel(), SCORER_SESSION_OPTIONS);
  const scorer: BatchScorer = async (batch) => {
    const result = await session.run(scorerFeeds(batch));
    return {
      rows: result.candidate_rows!.data as Int32Array,
      similarities: result.similarities!.data as Float32Array,
    };
  };
  return { scorer, close: () => session.release() };
}
