import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alignFace, cropOf, fitSimilarity, templateFor } from "./aligner.ts";
import { applyAffine, type Point, type RgbImage } from "./image.ts";
import { MODELS } from "./models/manifest.ts";

const ARCFACE = cropOf(MODELS.sface);
const TEMPLATE_5 = templateFor(ARCFACE, new Array(5).fill({ x: 0, y: 0 }));
const TEMPLATE_4 = templateFor(ARCFACE, new Array(4).fill({ x: 0, y: 0 }));
const ALIGNED_SIZE = ARCFACE.size;

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe("aligner", () => {
  it("recovers a hand-made similarity: rotate 90 degrees, scale 2, shift (10, -5)", () => {
    // x' = 0*x - 2*y + 10, y' = 2*x + 0*y - 5
    const from: Point[] = [
      { x: 0, y: 0 },
      { x: 1, y: 0 },
      { x: 0, y: 1 },
    ];
    const to = from.map((p) => ({ x: -2 * p.y + 10, y: 2 * p.x - 5 }));
    const m = fitSimilarity(from, to);
    for (const [i, v] of [0, -2, 10, 2, 0, -5].entries()) close(m[i]!, v);
  });

  it("gives the least-squares fit for inconsistent points (hand-computed)", () => {
    // A square of side 2 centred at the origin; the targets are its corners with one pulled
    // outwards by 1 along x.
    const from = [
      { x: -1, y: -1 },
      { x: 1, y: -1 },
      { x: 1, y: 1 },
      { x: -1, y: 1 },
    ];
    const to = [
      { x: -1, y: -1 },
      { x: 2, y: -1 },
      { x: 1, y: 1 },
      { x: -1, y: 1 },
    ];
    // By hand: target mean (0.25, 0), centred targets (-1.25,-1) (1.75,-1) (0.75,1) (-1.25,1).
    // sum |p|^2 = 8; dot = sum(px*qx + py*qy) = 2.25 + 2.75 + 1.75 + 2.25 = 9;
    // cross = sum(px*qy - py*qx) = -0.25 + 0.75 + 0.25 + 0.25 = 1; so a = 9/8, b = 1/8.
    const m = fitSimilarity(from, to);
    close(m[0], 9 / 8);
    close(m[3], 1 / 8);
    close(m[1], -1 / 8);
    close(m[4], 9 / 8);
    // Translation maps the source mean (0,0) onto the target mean (0.25, 0).
    close(m[2], 0.25);
    close(m[5], 0);
  });

  it("derives the four-point template from the five-point one (mouth centre = mean of corners)", () => {
    assert.deepEqual(TEMPLATE_4.slice(0, 3), TEMPLATE_5.slice(0, 3));
    close(TEMPLATE_4[3]!.x, (41.5493 + 70.7299) / 2 + 0.5);
    close(TEMPLATE_4[3]!.y, (92.3655 + 92.2041) / 2 + 0.5);
    assert.throws(() => templateFor(ARCFACE, [{ x: 0, y: 0 }]), /cannot align 1 landmarks/);
  });

  it("warps landmarks placed at twice the template scale, shifted, onto the template", () => {
    // A frame where each landmark is a bright dot, at template * 2 + (40, 30).
    const width = 400;
    const height = 300;
    const data = new Uint8Array(width * height * 3);
    const landmarks = TEMPLATE_5.map((p) => ({ x: p.x * 2 + 40, y: p.y * 2 + 30 }));
    for (const p of landmarks) {
      for (let dy = -2; dy < 2; dy++)
        for (let dx = -2; dx < 2; dx++)
          data.fill(
            255,
            ((Math.floor(p.y) + dy) * width + Math.floor(p.x) + dx) * 3,
            ((Math.floor(p.y) + dy) * width + Math.floor(p.x) + dx) * 3 + 3,
          );
    }
    const frame: RgbImage = { width, height, data };
    const m = fitSimilarity(landmarks, TEMPLATE_5);
    close(m[0], 0.5);
    close(m[3], 0);
    for (const [i, p] of landmarks.entries()) {
      const q = applyAffine(m, p);
      close(q.x, TEMPLATE_5[i]!.x, 1e-9);
    }
    const crop = alignFace(frame, landmarks, ARCFACE);
    assert.equal(crop.width, ALIGNED_SIZE);
    for (const t of TEMPLATE_5) {
      const value = crop.data[(Math.floor(t.y) * ALIGNED_SIZE + Math.floor(t.x)) * 3]!;
      assert.ok(value > 100, `the dot lands on template point (${t.x}, ${t.y}); got ${value}`);
    }
  });

  it("serves each embedder its own crop: dlib's 150x150 chip from the same landmarks", () => {
    const dlib = cropOf(MODELS.dlib);
    const frame: RgbImage = { width: 320, height: 240, data: new Uint8Array(320 * 240 * 3) };
    const landmarks = TEMPLATE_4.map((p) => ({ x: p.x + 100, y: p.y + 60 }));
    assert.equal(alignFace(frame, landmarks, dlib).width, 150);
    // ArcFace's layout mapped into dlib's chip: every landmark lands within a few pixels of dlib's
    // template point (the two layouts differ in shape, so not exactly).
    const m = fitSimilarity(landmarks, templateFor(dlib, landmarks));
    for (const [i, p] of templateFor(dlib, landmarks).entries()) {
      const q = applyAffine(m, landmarks[i]!);
      assert.ok(Math.hypot(q.x - p.x, q.y - p.y) < 5, `point ${i}: (${q.x}, ${q.y}) vs (${p.x}, ${p.y})`);
    }
  });
});
