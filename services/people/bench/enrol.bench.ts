/**
 * Enrolment latency: `POST /v1/people/{id}/faces` with a 1280×720 JPEG of one face, through the
 * real stack (gateway multipart → gRPC → decode, detect, align, embed, store, announce, audit), against
 * the bare model work on the same photo in this process (the worker's detector, aligner and
 * embedder on the decoded frame): the ratio is what the service adds around the models.
 * Target: median ≤ 500 ms on this machine.
 */
import { readFileSync } from "node:fs";
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { startTestStack } from "@facerec/shared/stack/test-stack.ts";
import { TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { ASTRONAUT_PNG } from "@facerec/worker/src/test-support/photos.ts";
import sharp from "sharp";
import { peopleConfigSchema } from "../src/config.ts";
import { FaceAnalyzer } from "../src/face-analyzer.ts";
import { decodePhoto } from "../src/photo.ts";

const RUNS = SMOKE_RUN ? 3 : 30;
const TARGET_MS = 500;

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up: model sessions, connections, JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

// Eileen Collins' portrait at its own size in a 1280×720 frame, as a JPEG (quality 90).
const photo = await sharp({ create: { width: 1280, height: 720, channels: 3, background: "#6e6e6e" } })
  .composite([{ input: readFileSync(ASTRONAUT_PNG), left: 384, top: 104 }])
  .jpeg({ quality: 90 })
  .toBuffer();
console.log(`photo: 1280×720 JPEG, ${photo.length} bytes; ${RUNS} runs each`);

// (b) The baseline: decode + detect + align + embed in this process, with the service's own models
// and settings (the people service's defaults), no service around it.
const defaults = peopleConfigSchema.parse({});
const analyzer = await FaceAnalyzer.open(TEST_MODELS_DIR, defaults.DETECTOR_TYPE, defaults.EMBEDDER_TYPES, {
  minFacePx: defaults.ENROL_MIN_FACE_PX,
  minScore: defaults.ENROL_MIN_DET_SCORE,
});
const bare = await timed(RUNS, async () => {
  const frame = await decodePhoto(photo);
  const [face] = await analyzer.detect(frame);
  if (!face) throw new Error("no face in the benchmark photo");
  await analyzer.embedPrimary(frame, face);
});
await analyzer.close();

// (a) Enrolment through the real stack.
const t = await startTestStack({ LOG_LEVEL: "warn" });
let enrol: number[];
try {
  const token = await t.login();
  const person = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
    token,
    body: { displayName: "Bench Person" },
  });
  const url = `${t.url}/v1/people/${person.body.person.id}/faces`;
  enrol = await timed(RUNS, async () => {
    const form = new FormData();
    form.set("image", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), "photo.jpg");
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    if (res.status !== 201) throw new Error(`enrolment failed: ${res.status} ${await res.text()}`);
  });
} finally {
  await t.stop();
}

const summary = {
  photo: { width: 1280, height: 720, format: "jpeg", bytes: photo.length },
  runs: RUNS,
  enrolMs: { p50: percentile(enrol, 50), p95: percentile(enrol, 95) },
  bareModelsMs: { p50: percentile(bare, 50), p95: percentile(bare, 95) },
  ratioEnrolToBare: percentile(enrol, 50) / percentile(bare, 50),
  targetMs: TARGET_MS,
};
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(
  `(a) POST /v1/people/{id}/faces   p50 ${fmt(summary.enrolMs.p50)}  p95 ${fmt(summary.enrolMs.p95)}`,
);
console.log(
  `(b) decode+detect+align+embed    p50 ${fmt(summary.bareModelsMs.p50)}  p95 ${fmt(summary.bareModelsMs.p95)}`,
);
console.log(`(a)/(b) = ${summary.ratioEnrolToBare.toFixed(2)}`);
console.log(`target p50 ≤ ${TARGET_MS} ms: ${verdict(summary.enrolMs.p50 <= TARGET_MS)}`);
await writeBenchSummary("people-enrol", summary);
