/**
 * Gallery matching throughput: queries per second of the production match path (ModelGallery.search
 * with the services' onnxruntime scorer: an int8 MatMulInteger + TopK over every face's code, the
 * best 40 rows scored again exactly in float32 (Gather, MatMul), then the best face per person and
 * the top 10 people per query) for batches of 32 queries against galleries of 1k, 10k, 100k and 1M faces of 512
 * dimensions, on one thread; and in the same run, taking turns with it:
 *   - the baseline, a bare onnxruntime float32 Gemm (MatMul with the gallery transposed) + TopK over
 *     the same vectors, one intra-op thread. Target (issue 10): production ≥ 0.8 of the baseline;
 *   - the production scorer's model run bare on the same inputs, to show what the path around it
 *     (coding the queries, ranking candidates, people) costs.
 * The plain loop scorer (the fallback without onnxruntime) is measured up to 100k faces, to show
 * what the GEMM buys.
 *
 * 1M faces hold 2.5 GB in the gallery (float32 and codes) and 2.5 GB more in the bare runs' copies.
 */

import { loopScorer, ModelGallery, type ScoringBatch } from "@facerec/gallery/gallery-index.ts";
import {
  openGemmScorer,
  SCORER_SESSION_OPTIONS,
  scorerFeeds,
  scorerModel,
} from "@facerec/gallery/gemm-scorer.ts";
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { TensorProto_DataType } from "@facerec/worker/src/models/onnx-gen/onnx/onnx.ts";
import { encodeModel, int, tensorInfo } from "@facerec/worker/src/models/onnx-graph.ts";
import ort from "onnxruntime-node";

const DIM = 512;
const BATCH = 32;
const K = 10;
const FACES_PER_PERSON = 4;
const SIZES = SMOKE_RUN
  ? [1000]
  : (process.env.BENCH_MATCH_SIZES?.split(",").map(Number) ?? [1000, 10_000, 100_000, 1_000_000]);
const SECONDS = Number(process.env.BENCH_DURATION_S ?? 3);
/** Turns production and the two bare runs take, SECONDS each in all, so a changing load weighs on all alike. */
const TURNS = 3;
/** Beyond this the loop scorer takes minutes per batch. */
const LOOP_MAX_FACES = 100_000;
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
  return encodeModel("facerec bench:match baseline", {
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
  });
}

/** Runs `batch` repeatedly for `seconds` (after one warm-up) and returns [batches, seconds taken]. */
async function timed(batch: () => Promise<unknown>, seconds: number): Promise<[number, number]> {
  await batch();
  let batches = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await batch();
    batches++;
  }
  return [batches, (performance.now() - start) / 1000];
}

/** Queries per second of each contender, measured in TURNS interleaved turns. */
async function compare<K extends string>(
  contenders: Record<K, () => Promise<unknown>>,
): Promise<Record<K, number>> {
  const totals = Object.fromEntries(Object.keys(contenders).map((k) => [k, [0, 0]])) as Record<
    K,
    [number, number]
  >;
  for (let turn = 0; turn < TURNS; turn++)
    for (const [name, batch] of Object.entries(contenders) as [K, () => Promise<unknown>][]) {
      const [batches, seconds] = await timed(batch, SECONDS / TURNS);
      totals[name][0] += batches;
      totals[name][1] += seconds;
    }
  return Object.fromEntries(
    (Object.entries(totals) as [K, [number, number]][]).map(([k, [batches, seconds]]) => [
      k,
      (batches * BATCH) / seconds,
    ]),
  ) as Record<K, number>;
}

const baselineSession = await ort.InferenceSession.create(matchModel(), SCORER_SESSION_OPTIONS);
const scorerSession = await ort.InferenceSession.create(scorerModel(), SCORER_SESSION_OPTIONS);
const gemm = await openGemmScorer();
const queries = unitVectors(BATCH);
const queryRows = Array.from({ length: BATCH }, (_, i) => queries.subarray(i * DIM, (i + 1) * DIM));
const results: {
  faces: number;
  productionQps: number;
  baselineQps: number;
  bareScorerQps: number;
  loopQps: number | null;
  ratio: number;
}[] = [];
console.log(`${DIM}-d, batches of ${BATCH}, top ${K} people, one thread, ${SECONDS} s per measurement`);
for (const faces of SIZES) {
  const vectors = unitVectors(faces);
  const gallery = new ModelGallery(DIM, faces);
  for (let r = 0; r < faces; r++)
    gallery.add(`f${r}`, `p${Math.floor(r / FACES_PER_PERSON)}`, vectors.subarray(r * DIM, (r + 1) * DIM));
  // The bare scorer's inputs: those the gallery gives its scorer, captured from one search.
  let scored: ScoringBatch | undefined;
  await gallery.search(queryRows, K, {
    scorer: (batch) => {
      scored = batch;
      return gemm.scorer(batch);
    },
  });
  const scoredFeeds = scorerFeeds(scored!);
  const baselineFeeds = {
    q: new ort.Tensor("float32", queries, [BATCH, DIM]),
    g: new ort.Tensor("float32", vectors, [faces, DIM]),
  };
  const qps = await compare({
    production: () => gallery.search(queryRows, K, { scorer: gemm.scorer }),
    baseline: () => baselineSession.run(baselineFeeds),
    bareScorer: () => scorerSession.run(scoredFeeds),
  });
  const loopQps =
    faces <= LOOP_MAX_FACES
      ? (await compare({ loop: () => gallery.search(queryRows, K, { scorer: loopScorer }) })).loop
      : null;
  const ratio = qps.production / qps.baseline;
  results.push({
    faces,
    productionQps: qps.production,
    baselineQps: qps.baseline,
    bareScorerQps: qps.bareScorer,
    loopQps,
    ratio,
  });
  console.log(
    `${String(faces).padStart(7)} faces: production ${qps.production.toFixed(0).padStart(7)} q/s, ` +
      `float32 Gemm+TopK ${qps.baseline.toFixed(0).padStart(7)} q/s, ratio ${ratio.toFixed(2)} ` +
      `(target ≥ ${TARGET}: ${verdict(ratio >= TARGET)}); its scorer's model bare ` +
      `${qps.bareScorer.toFixed(0)} q/s (production ${(qps.production / qps.bareScorer).toFixed(2)} of it)` +
      (loopQps === null ? "" : `; loop scorer ${loopQps.toFixed(0)} q/s`),
  );
}
await baselineSession.release();
await scorerSession.release();
await gemm.close();
await writeBenchSummary("people-match", {
  dim: DIM,
  batch: BATCH,
  k: K,
  seconds: SECONDS,
  results,
  target: TARGET,
});
