import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cropOf, templateFor } from "../aligner.ts";
import type { DetectedFace } from "../detectors/detector.ts";
import type { RgbImage } from "../image.ts";
import { MODELS } from "../models/manifest.ts";
import { faceQuality, frontalnessOf, laplacianVariance } from "./quality.ts";
import { type Candidate, FaceTracker } from "./tracker.ts";

// BlazeFace's four landmarks where ArcFace's 112x112 crop puts them: a frontal face.
const TEMPLATE_4 = templateFor(cropOf(MODELS.sface), new Array(4).fill({ x: 0, y: 0 }));
const flat: RgbImage = { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).fill(128) };
const stripes: RgbImage = {
  width: 112,
  height: 112,
  data: new Uint8Array(112 * 112 * 3).map((_, i) => (Math.floor(i / 3) % 2 ? 230 : 20)),
};

function face(x: number, size = 100): DetectedFace {
  return {
    score: 0.9,
    box: { x, y: 100, width: size, height: size },
    landmarks: TEMPLATE_4.map((p) => ({ x: x + (p.x * size) / 112, y: 100 + (p.y * size) / 112 })),
  };
}

function candidate(seq: number, x: number, score: number): Candidate {
  return {
    frameSeq: seq,
    capturedAt: new Date(seq * 100),
    face: face(x),
    aligned: flat,
    quality: { sharpness: score, size: 1, frontalness: 1, score },
  };
}

describe("face quality", () => {
  it("scores sharpness by Laplacian variance: flat 0, fine stripes high", () => {
    assert.equal(laplacianVariance(flat), 0);
    assert.ok(laplacianVariance(stripes) > 1000);
    assert.equal(faceQuality(face(0), flat).sharpness, 0);
    assert.equal(faceQuality(face(0), stripes).sharpness, 1);
  });

  it("scores a template-shaped face as frontal and a turned or rolled one lower", () => {
    assert.ok(frontalnessOf(TEMPLATE_4) > 0.95, String(frontalnessOf(TEMPLATE_4)));
    const turned = TEMPLATE_4.map((p, i) => (i === 2 ? { x: p.x + 15, y: p.y } : p));
    assert.ok(frontalnessOf(turned) < 0.5, "nose far off the eyes' midline");
    const rolled = TEMPLATE_4.map((p) => ({ x: p.x - p.y * 0.6, y: p.y + p.x * 0.6 }));
    assert.ok(frontalnessOf(rolled) < frontalnessOf(TEMPLATE_4));
  });

  it("scores size against the 112 px the embedders see", () => {
    assert.equal(faceQuality(face(0, 56), stripes).size, 0.5);
    assert.equal(faceQuality(face(0, 300), stripes).size, 1);
  });
});

describe("face tracker", () => {
  it("gives a face that stays in view one id and a few best shots, not one per frame", () => {
    const tracker = new FaceTracker({
      iouThreshold: 0.3,
      maxMissingMs: 1000,
      firstShotDelayMs: 500,
      minResendMs: 5000,
    });
    const shots = [];
    // 12 seconds at 10 fps, drifting 2 px per frame; quality peaks at frame 3 and frame 80.
    for (let seq = 0; seq < 120; seq++) {
      const q = seq === 3 || seq === 80 ? 0.95 : 0.5;
      shots.push(...tracker.update([candidate(seq, 100 + seq * 2, q)], new Date(seq * 100)));
    }
    assert.equal(new Set(shots.map((s) => s.trackId)).size, 1);
    // Shots at 0.5 s (best of frames 0-5), 5.5 s (all equal since: the newest) and 10.5 s.
    assert.deepEqual(
      shots.map((s) => s.frameSeq),
      [3, 55, 80],
    );
    assert.equal(shots[0]!.quality.score, 0.95, "the best frame of the first half-second");
  });

  it("reports a face seen only briefly when it leaves, and keeps two faces apart", () => {
    const tracker = new FaceTracker({
      iouThreshold: 0.3,
      maxMissingMs: 300,
      firstShotDelayMs: 500,
      minResendMs: 5000,
    });
    assert.deepEqual(tracker.update([candidate(0, 100, 0.6), candidate(0, 600, 0.7)], new Date(0)), []);
    assert.deepEqual(tracker.update([candidate(1, 600, 0.7)], new Date(100)), []);
    const shots = tracker.update([candidate(4, 600, 0.7)], new Date(450));
    assert.deepEqual(
      shots.map((s) => s.face.box.x),
      [100],
      "the face at x=100 left after 0.1 s",
    );
    assert.equal(tracker.activeTracks, 1);
    const final = tracker.flush();
    assert.equal(final.length, 1);
    assert.notEqual(final[0]!.trackId, shots[0]!.trackId);
  });
});
