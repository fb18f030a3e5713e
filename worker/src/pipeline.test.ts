// The whole pipeline with real parts: ffmpeg decoding a test video made from a real photo, the
// BlazeFace and MobileFaceNet ONNX models, and a sink that keeps what it is given.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { BLAZEFACE_BACK, BlazeFaceDetector, DEFAULT_BLAZEFACE_OPTIONS } from "./detectors/blazeface.ts";
import type { Embedder } from "./embedders/embedder.ts";
import { openEmbedder } from "./embedders/index.ts";
import { MODELS } from "./models/manifest.ts";
import { runPipeline } from "./pipeline.ts";
import type { FaceObservation, FaceSink } from "./sink.ts";
import { openSource } from "./source/index.ts";
import { Telemetry } from "./telemetry.ts";
import { requireModel, TEST_MODELS_DIR } from "./test-support/models.ts";
import { makeAstronautVideo } from "./test-support/videos.ts";
import { THUMBNAIL_MAX_BYTES, ThumbnailEncoder, ThumbnailPolicy } from "./thumbnails.ts";
import { FaceTracker } from "./tracking/tracker.ts";

/** Keeps every observation; stands in for the uplink in tests only. */
class CollectingSink implements FaceSink {
  readonly observations: FaceObservation[] = [];
  closed = false;
  async send(observations: readonly FaceObservation[]): Promise<void> {
    this.observations.push(...observations);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe("pipeline", () => {
  let video: string;
  let detector: BlazeFaceDetector;
  let embedder: Embedder;
  const encoder = new ThumbnailEncoder();
  const isJpeg = (b: Buffer) =>
    b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b.at(-2) === 0xff && b.at(-1) === 0xd9;
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    requireModel(MODELS.dlib);
    video = makeAstronautVideo(mkdtempSync(path.join(os.tmpdir(), "worker-pipeline-")), {
      seconds: 3,
      fps: 10,
    });
    // The portrait's face is over 100 px: tiles for the default MIN_FACE_PX (24) would only slow
    // these tests down (9 detector passes a frame instead of 3).
    detector = await BlazeFaceDetector.open(TEST_MODELS_DIR, BLAZEFACE_BACK, {
      ...DEFAULT_BLAZEFACE_OPTIONS,
      tileForFacesOf: 60,
    });
    embedder = await openEmbedder("dlib", TEST_MODELS_DIR);
  });
  after(async () => {
    await detector?.close();
    await embedder?.close();
    await encoder.close();
  });

  it("basic mode sends every detection, shaped as the ingest contract's FaceObservation", async () => {
    const sink = new CollectingSink();
    const telemetry = new Telemetry();
    // THUMBNAILS=best in basic mode: one face's thumbnail per second of video (10 frames).
    const policy = new ThumbnailPolicy("best", { enhanced: false, everyMs: 1000 });
    await runPipeline({
      source: openSource(video, 0),
      detector,
      embedder,
      sink,
      telemetry,
      thumbnails: { policy, encoder },
    });
    assert.equal(sink.observations.length, 30, "one face in each of 30 frames");
    assert.deepEqual(
      sink.observations.map((o) => o.frameSeq),
      [...Array(30).keys()],
    );
    for (const o of sink.observations) {
      assert.equal(o.embeddingDim, MODELS.dlib.embeddingDim);
      assert.equal(o.embedding.length, MODELS.dlib.embeddingDim * 4);
      assert.equal(o.model, "dlib/resnet-v1-128");
      const values = Array.from({ length: MODELS.dlib.embeddingDim }, (_, i) =>
        o.embedding.readFloatLE(i * 4),
      );
      assert.ok(Math.abs(Math.hypot(...values) - 1) < 1e-5, "little-endian float32, L2-normalised");
      assert.equal(o.landmarks.length, 8, "BlazeFace: eyes, nose tip, mouth centre");
      assert.ok(o.landmarks.every((v) => v >= 0));
      assert.ok(o.bbox!.x >= 0 && o.bbox!.x + o.bbox!.width <= 1280 && o.bbox!.width > 80);
      assert.ok(o.detScore > 0.6 && o.detScore <= 1);
      assert.equal(o.trackId, 0);
      assert.equal(o.quality, 0);
    }
    // Frames are timestamped as decoded (at WORKER_FPS=0, as fast as the machine goes): the first
    // face has a thumbnail, then one at most every second of those timestamps.
    const withThumbnail = sink.observations.filter((o) => o.thumbnailJpeg.length > 0);
    assert.ok(sink.observations[0]!.thumbnailJpeg.length > 0, "the first face has a thumbnail");
    const times = withThumbnail.map((o) => o.capturedAt!.getTime());
    for (let i = 1; i < times.length; i++)
      assert.ok(times[i]! - times[i - 1]! >= 1000, "at most one a second");
    const span = sink.observations.at(-1)!.capturedAt!.getTime() - times[0]!;
    assert.ok(withThumbnail.length <= 1 + span / 1000, `${withThumbnail.length} thumbnails in ${span} ms`);
    for (const o of withThumbnail) {
      assert.ok(isJpeg(o.thumbnailJpeg), "a whole JPEG (SOI ... EOI)");
      assert.ok(o.thumbnailJpeg.length <= THUMBNAIL_MAX_BYTES, `${o.thumbnailJpeg.length} bytes`);
    }
    // The portrait moves right 4 px per frame (40 px/s at 10 fps); boxes follow it.
    const drift = sink.observations.at(-1)!.bbox!.x - sink.observations[0]!.bbox!.x;
    assert.ok(Math.abs(drift - 29 * 4) < 12, `box moved ${drift} px`);
    assert.equal(telemetry.snapshot().pipeline.frames, 30);
    assert.equal(telemetry.running, false);
  });

  it("enhanced mode tracks the face and sends a few good shots instead of one per frame", async () => {
    const sink = new CollectingSink();
    const tracker = new FaceTracker({
      iouThreshold: 0.3,
      maxMissingMs: 1000,
      firstShotDelayMs: 500,
      minResendMs: 1000,
    });
    // 5 fps in real time: 15 frames over 3 s, when the machine keeps up.
    const start = performance.now();
    await runPipeline({
      source: openSource(video, 5),
      detector,
      embedder,
      sink,
      telemetry: new Telemetry(),
      tracker,
      thumbnails: { policy: new ThumbnailPolicy("best", { enhanced: true, everyMs: 1000 }), encoder },
    });
    const n = sink.observations.length;
    assert.ok(
      sink.observations.every((o) => isJpeg(o.thumbnailJpeg)),
      "every best shot carries its thumbnail",
    );
    // A shot 0.5 s after the face appears, then at most one a second, and the last at the end: 2-4
    // in 3 s (frames are timestamped as read, so a machine that falls behind stretches the run).
    const seconds = (performance.now() - start) / 1000;
    assert.ok(n >= 2 && n <= 2 + Math.max(2, seconds), `${n} observations from 15 frames in ${seconds} s`);
    assert.equal(new Set(sink.observations.map((o) => o.trackId)).size, 1);
    assert.ok(sink.observations.every((o) => o.trackId > 0 && o.quality > 0 && o.quality <= 1));
  });

  it("stops when the source is stopped and still delivers the tracker's pending shot", async () => {
    const sink = new CollectingSink();
    const source = openSource(video, 0, { loop: true });
    const telemetry = new Telemetry();
    const tracker = new FaceTracker({
      iouThreshold: 0.3,
      maxMissingMs: 1000,
      firstShotDelayMs: 60_000,
      minResendMs: 60_000,
    });
    const run = runPipeline({ source, detector, embedder, sink, telemetry, tracker });
    while (telemetry.snapshot().pipeline.frames < 5) await new Promise((r) => setTimeout(r, 20));
    source.stop();
    await run;
    assert.equal(sink.observations.length, 1, "the face's best shot, flushed at the end");
  });
});
