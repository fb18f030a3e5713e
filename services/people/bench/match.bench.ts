/**
 * Gallery matching throughput: queries per second of the production match path (ModelGallery.search
 * with the people service's onnxruntime Gemm scorer: exact cosine against every face, then the best
 * face per person and the top 10 people from a heap per query) for batches of 32 queries
 * against galleries of 1k, 10k, 100k and 1M faces of 512 dimensions, on one thread; and in the same run
 * the baseline, a bare onnxruntime Gemm (MatMul with the gallery transposed) + TopK over the same
 * data, one intra-op thread. Target (issue 10): production ≥ 0.8 of the baseline. The plain loop
 * scorer (the fallback without onnxruntime) is measured too, to show what the GEMM buys.
 *
 * 1M faces hold 2 GB of float32 per copy (the gallery's and the baseline's: 4 GB of this machine's
 * 24 GiB).
 */
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { loopScorer, ModelGallery } from "@facerec/shared/gallery/gallery-index.ts";
import { openGemmScorer, SCORER_SESSION_OPTIONS } from "@facerec/shared/gallery/gemm-scorer.ts";
import { ModelProto, TensorProto_DataType } from "@facerec/worker/src/models/onnx-gen/onnx/onnx.ts";
import { IR_VERSION, int, OPSET, tensorInfo } from "@facerec/worker/tools/models/tfjs-to-onnx.ts";
import ort from "onnxruntime-node";

const DIM = 512;
const BATCH = 32;
const K = 10;
const FACES_PER_PERSON = 4;
const SIZES = SMOKE_RUN ? [1000] : [1000, 10_000, 100_000, 1_000_000];
const SECONDS = Number(process.env.BENCH_DURATION_S ?? 3);
const TARGET = 0.8;

let seed = 42;
function random(): number {
  seed = (seed * 16807) % 2147483647;
  return (seed / 2147483647) * 2 - 1;
}
function unitVectors(count: number): Float32Array {
  const out = new Float32Array(count * DIM);
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let i = 0; i < DIM; i++) {
      const x = random();
      out[r * DIM + i] = x;
      norm += x * x;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < DIM; i++) out[r * DIM + i]! *= inv;
  }
  return out;
}

/** scores = q · gᵀ (Gemm, transB), then the K best per query (TopK): what a GEMM library does at best. */
function matchModel(): Uint8Array {
  return ModelProto.encode(
    ModelProto.fromPartial({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName: "facerec bench:match baseline",
      graph: {
        name: "gemm_topk",
        node: [
          { opType: "Gemm", input: ["q", "g"], output: ["scores"], attribute: [int("transB", 1)] },
          {
            opType: "TopK",
            input: ["scores", "k"],
            output: ["values", "indices"],
            attribute: [int("axis", -1)],
          },
        ],
        initializer: [
          {
            name: "k",
            dims: [1],
            dataType: TensorProto_DataType.INT64,
            rawData: Buffer.from(new BigInt64Array([BigInt(K)]).buffer),
          },
        ],
        input: [tensorInfo("q", [-1, DIM]), tensorInfo("g", [-1, DIM])],
        output: [tensorInfo("values", [-1, K])],
      },
    }),
  ).finish();
}

/** Runs `batch` repeatedly for SECONDS (after one warm-up) and returns queries per second. */
async function queriesPerSecond(batch: () => Promise<unknown> | unknown): Promise<number> {
  await batch();
  let batches = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    await batch();
    batches++;
  }
  return (batches * BATCH) / ((performance.now() - start) / 1000);
}

const session = await ort.InferenceSession.create(matchModel(), SCORER_SESSION_OPTIONS);
const gemm = await openGemmScorer();
const queries = unitVectors(BATCH);
const queryRows = Array.from({ length: BATCH }, (_, i) => queries.subarray(i * DIM, (i + 1) * DIM));
const results: {
  faces: number;
  productionQps: number;
  loopQps: number;
  baselineQps: number;
  ratio: number;
}[] = [];
console.log(`${DIM}-d, batches of ${BATCH}, top ${K} people, one thread, ${SECONDS} s per measurement`);
for (const faces of SIZES) {
  const vectors = unitVectors(faces);
  const gallery = new ModelGallery(DIM, faces);
  for (let r = 0; r < faces; r++)
    gallery.add(`f${r}`, `p${Math.floor(r / FACES_PER_PERSON)}`, vectors.subarray(r * DIM, (r + 1) * DIM));

  const productionQps = await queriesPerSecond(() => gallery.search(queryRows, K, { scorer: gemm.scorer }));
  const loopQps = await queriesPerSecond(() => gallery.search(queryRows, K, { scorer: loopScorer }));
  const feeds = {
    q: new ort.Tensor("float32", queries, [BATCH, DIM]),
    g: new ort.Tensor("float32", vectors, [faces, DIM]),
  };
  const baselineQps = await queriesPerSecond(() => session.run(feeds));
  const ratio = productionQps / baselineQps;
  results.push({ faces, productionQps, loopQps, baselineQps, ratio });
  console.log(
    `${String(faces).padStart(7)} faces: production ${productionQps.toFixed(0).padStart(7)} q/s, ` +
      `onnxruntime Gemm+TopK ${baselineQps.toFixed(0).padStart(7)} q/s, ratio ${ratio.toFixed(2)} ` +
      `(loop scorer ${loopQps.toFixed(0)} q/s) ` +
      `(target ≥ ${TARGET}: ${verdict(ratio >= TARGET)})`,
  );
}
await session.release();
await gemm.close();
await writeBenchSummary("people-match", {
  dim: DIM,
  batch: BATCH,
  k: K,
  seconds: SECONDS,
  results,
  target: TARGET,
});
