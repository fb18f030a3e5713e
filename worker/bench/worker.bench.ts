// `npm run bench` (in worker/): the worker pipeline against raw onnxruntime-node on the same video.
//
// (a) baseline: only the detector and embedder session.run calls the pipeline makes (BlazeFace's
//     whole-frame and tile passes, its second look at each face, the embedder), on inputs
//     prepared beforehand from the same decoded frames and aligned crops;
// (b) the whole pipeline as configured by default (MIN_FACE_PX=24, THUMBNAILS=best): ffmpeg
//     decoding into pooled frame buffers, letterboxing, detection decoding, alignment, embedding,
//     thumbnails, observation building and a sink that encodes each frame's observations as an
//     ingest FaceBatch;
// (c) once more with THUMBNAILS=all, for the cost of a thumbnail on every observation.
// Target: (b)/(a) >= 0.8 in frames/s. Writes bench-results/worker.json.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { alignFace } from "../src/aligner.ts";
import { BlazeFaceDetector } from "../src/detectors/blazeface.ts";
import { openDetector } from "../src/detectors/index.ts";
import { DEFAULT_EMBEDDER_TYPE, embedderEntry, openEmbedder } from "../src/embedders/index.ts";
import type { Frame } from "../src/frame.ts";
import { letterbox, type RgbImage } from "../src/image.ts";
import { toInputTensor } from "../src/models/input-tensor.ts";
import { MODELS } from "../src/models/manifest.ts";
import { modelPath, ort, SESSION_OPTIONS } from "../src/models/onnx-session.ts";
import { runPipeline } from "../src/pipeline.ts";
import type { FaceObservation, FaceSink } from "../src/sink.ts";
import { openSource } from "../src/source/index.ts";
import { STAGES, Telemetry } from "../src/telemetry.ts";
import { requireModel, TEST_MODELS_DIR } from "../src/test-support/models.ts";
import { makeAstronautVideo } from "../src/test-support/videos.ts";
import { ThumbnailEncoder, ThumbnailPolicy } from "../src/thumbnails.ts";

// Five rounds of 50 frames, each running (b) then (a): on a shared machine the load changes
// minute to minute, and interleaving exposes both measurements to the same conditions.
const ROUNDS = SMOKE_RUN ? 1 : 5;
const SECONDS = SMOKE_RUN ? 1 : 5;
const FPS = 10;

requireModel(MODELS.blazefaceBack);
requireModel(MODELS.blazefaceFront);
const embedderModel = embedderEntry(DEFAULT_EMBEDDER_TYPE);
requireModel(embedderModel);
const video = makeAstronautVideo(mkdtempSync(path.join(os.tmpdir(), "worker-bench-")), {
  seconds: SECONDS,
  fps: FPS,
});

/** Stands in for the uplink: encodes each frame's observations as the batch it would send. */
class EncodingSink implements FaceSink {
  bytes = 0;
  async send(observations: readonly FaceObservation[]): Promise<void> {
    const batch = {
      batchId: crypto.randomUUID(),
      workerId: "bench",
      siteId: "s-1",
      cameraId: "cam-1",
      observations: [...observations],
    };
    this.bytes += FaceBatch.encode(batch).finish().length;
  }
  async close(): Promise<void> {}
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

const detector = (await openDetector("blazeface", TEST_MODELS_DIR)) as BlazeFaceDetector;
const embedder = await openEmbedder(DEFAULT_EMBEDDER_TYPE, TEST_MODELS_DIR);
const thumbnailEncoder = new ThumbnailEncoder();
// The baseline calls onnxruntime-node directly, on the main thread, with the pipeline's options.
const detectSession = await ort.InferenceSession.create(
  modelPath(TEST_MODELS_DIR, MODELS.blazefaceBack),
  SESSION_OPTIONS,
);
const secondLookSession = await ort.InferenceSession.create(
  modelPath(TEST_MODELS_DIR, MODELS.blazefaceFront),
  SESSION_OPTIONS,
);
const embedSession = await ort.InferenceSession.create(
  modelPath(TEST_MODELS_DIR, embedderModel),
  SESSION_OPTIONS,
);
const telemetry = new Telemetry();
const sink = new EncodingSink();
const spec = MODELS.blazefaceBack.input;
const frontSpec = MODELS.blazefaceFront.input;
const regions = detector.passRegions(1280, 720);
const pipeline = { seconds: 0, cpu: 0, rssMb: 0, framesAllocated: 0 };
const baseline = { seconds: 0, cpu: 0, frames: 0, faces: 0 };
const thumbnailsFor = (mode: "best" | "all") => ({
  policy: new ThumbnailPolicy(mode, { enhanced: false, everyMs: 1000 }),
  encoder: thumbnailEncoder,
});

for (let round = 0; round < ROUNDS; round++) {
  // (b) the whole pipeline, from the video file to the sink.
  let cpu = process.cpuUsage();
  let start = performance.now();
  const source = openSource(video, 0);
  await runPipeline({ source, detector, embedder, sink, telemetry, thumbnails: thumbnailsFor("best") });
  pipeline.seconds += (performance.now() - start) / 1000;
  pipeline.cpu += cpuSeconds(cpu);
  pipeline.framesAllocated = Math.max(
    pipeline.framesAllocated,
    (source as { framesAllocated?: number }).framesAllocated ?? 0,
  );
  // Measured before the baseline's pre-decoded frames exist.
  if (round === 0) pipeline.rssMb = process.resourceUsage().maxRSS / 1024;

  // (a) inputs made beforehand: the same frames, the detector inputs the pipeline makes, the crops.
  const frames: Frame[] = [];
  for await (const frame of openSource(video, 0).frames()) frames.push(frame);
  const detectorInputs = frames.map((frame) =>
    regions.map(
      (r) =>
        new ort.Tensor(
          "float32",
          toInputTensor([letterbox(frame, spec.width, 128, r).image], spec),
          [1, 256, 256, 3],
        ),
    ),
  );
  const embedInputs: (ort.Tensor | undefined)[] = [];
  const secondLookInputs: ort.Tensor[][] = [];
  for (const frame of frames) {
    const faces = await detector.detect(frame);
    secondLookInputs.push(
      faces.map(
        (f) =>
          new ort.Tensor(
            "float32",
            toInputTensor(
              [letterbox(frame, frontSpec.width, 128, BlazeFaceDetector.secondLookRegion(f)).image],
              frontSpec,
            ),
            [1, frontSpec.height, frontSpec.width, 3],
          ),
      ),
    );
    const crops: RgbImage[] = faces.map((f) => alignFace(frame, f.landmarks, embedder.crop));
    embedInputs.push(
      crops.length
        ? new ort.Tensor("float32", toInputTensor(crops, embedderModel.input), [
            crops.length,
            embedderModel.input.height,
            embedderModel.input.width,
            3,
          ])
        : undefined,
    );
  }
  cpu = process.cpuUsage();
  start = performance.now();
  for (let i = 0; i < frames.length; i++) {
    for (const input of detectorInputs[i]!) await detectSession.run({ "input:0": input });
    for (const input of secondLookInputs[i]!) await secondLookSession.run({ "input:0": input });
    const faces = embedInputs[i];
    if (faces) {
      await embedSession.run({ [embedSession.inputNames[0]!]: faces });
      baseline.faces += faces.dims[0]!;
    }
  }
  baseline.seconds += (performance.now() - start) / 1000;
  baseline.cpu += cpuSeconds(cpu);
  baseline.frames += frames.length;
}
const { frames: pipelineFrames, faces: pipelineFaces } = telemetry.snapshot().pipeline;
const defaultThumbnails = { ...thumbnailEncoder.totals };

// (c) THUMBNAILS=all: one more run of the pipeline, a thumbnail with every observation.
const allTelemetry = new Telemetry();
const allStart = performance.now();
await runPipeline({
  source: openSource(video, 0),
  detector,
  embedder,
  sink: new EncodingSink(),
  telemetry: allTelemetry,
  thumbnails: thumbnailsFor("all"),
});
const allSeconds = (performance.now() - allStart) / 1000;
const allThumbnails = {
  ms: thumbnailEncoder.totals.ms - defaultThumbnails.ms,
  count: thumbnailEncoder.totals.count - defaultThumbnails.count,
  bytes: thumbnailEncoder.totals.bytes - defaultThumbnails.bytes,
};
await Promise.all([
  detector.close(),
  embedder.close(),
  thumbnailEncoder.close(),
  detectSession.release(),
  secondLookSession.release(),
  embedSession.release(),
]);

const stageMsOf = async (t: Telemetry, frames: number) => {
  const histogram = (await t.stageSeconds.get()).values;
  return Object.fromEntries(
    STAGES.map((stage) => {
      const sum =
        histogram.find((v) => v.labels["stage"] === stage && v.metricName?.endsWith("_sum"))?.value ?? 0;
      return [stage, Math.round((sum / frames) * 1000 * 100) / 100];
    }),
  );
};
const stageMs = await stageMsOf(telemetry, pipelineFrames);

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const summary = {
  benchmark: "worker pipeline vs raw onnxruntime-node",
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
  video: { width: 1280, height: 720, framesPerRound: baseline.frames / ROUNDS, rounds: ROUNDS, workerFps: 0 },
  models: {
    detector: MODELS.blazefaceBack.id,
    detectorPassesPerFrame: regions.length,
    secondLook: MODELS.blazefaceFront.id,
    embedder: embedderModel.id,
  },
  baseline: {
    frames: baseline.frames,
    framesPerSecond: round(baseline.frames / baseline.seconds),
    facesPerSecond: round(baseline.faces / baseline.seconds),
    seconds: round(baseline.seconds),
    cpuSeconds: round(baseline.cpu),
  },
  pipeline: {
    frames: pipelineFrames,
    framesPerSecond: round(pipelineFrames / pipeline.seconds),
    facesPerSecond: round(pipelineFaces / pipeline.seconds),
    seconds: round(pipeline.seconds),
    /** Node process only; ffmpeg decodes in its own process. */
    cpuSeconds: round(pipeline.cpu),
    peakRssMb: round(pipeline.rssMb, 0),
    stageMsPerFrame: stageMs,
    sinkBytes: sink.bytes,
    /** Frame buffers allocated by the pooled ffmpeg source in a round (one per frame before pooling). */
    frameBuffersAllocated: pipeline.framesAllocated,
    thumbnails: {
      count: defaultThumbnails.count,
      encodeMsEach: round(defaultThumbnails.ms / Math.max(1, defaultThumbnails.count)),
      bytesEach: Math.round(defaultThumbnails.bytes / Math.max(1, defaultThumbnails.count)),
    },
  },
  pipelineWithAllThumbnails: {
    frames: allTelemetry.snapshot().pipeline.frames,
    framesPerSecond: round(allTelemetry.snapshot().pipeline.frames / allSeconds),
    thumbnails: allThumbnails.count,
    /** Time on the thumbnail thread per thumbnail; the pipeline waits only for what embedding does not cover. */
    encodeMsEach: round(allThumbnails.ms / Math.max(1, allThumbnails.count)),
    bytesEach: Math.round(allThumbnails.bytes / Math.max(1, allThumbnails.count)),
    stageMsPerFrame: await stageMsOf(allTelemetry, allTelemetry.snapshot().pipeline.frames),
  },
  ratios: {
    pipelineOverBaselineFps: round(
      pipelineFrames / pipeline.seconds / (baseline.frames / baseline.seconds),
      3,
    ),
    target: 0.8,
  },
  peakRssMbWholeRun: round(process.resourceUsage().maxRSS / 1024, 0),
};

await writeBenchSummary("worker", summary);
console.log(JSON.stringify(summary, null, 2));
console.log(
  `\n(a) baseline ${summary.baseline.framesPerSecond} frames/s, ${summary.baseline.facesPerSecond} faces/s | ` +
    `(b) pipeline ${summary.pipeline.framesPerSecond} frames/s, ${summary.pipeline.facesPerSecond} faces/s | ` +
    `(b)/(a) = ${summary.ratios.pipelineOverBaselineFps} (target >= 0.8: ${verdict(summary.ratios.pipelineOverBaselineFps >= 0.8)}) | ` +
    `(c) THUMBNAILS=all ${summary.pipelineWithAllThumbnails.framesPerSecond} frames/s, ` +
    `${summary.pipelineWithAllThumbnails.encodeMsEach} ms and ${summary.pipelineWithAllThumbnails.bytesEach} bytes per thumbnail`,
);
