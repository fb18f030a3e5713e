import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RgbImage } from "../image.ts";
import { toInputTensor } from "../models/input-tensor.ts";
import { MODELS } from "../models/manifest.ts";
import { cosine, l2Normalise } from "./embedder.ts";

// A 112x112 image whose every pixel is (R, G, B) = (255, 0, 51).
const face: RgbImage = {
  width: 112,
  height: 112,
  data: new Uint8Array(112 * 112 * 3).map((_, i) => [255, 0, 51][i % 3]!),
};
const plane = 112 * 112;

describe("embedder preprocessing", () => {
  it("insightface: NCHW RGB planes scaled to [-1, 1] by (x - 127.5) / 127.5", () => {
    const t = toInputTensor([face], MODELS.insightface.input);
    assert.equal(t.length, 3 * plane);
    assert.equal(t[0], 1);
    assert.equal(t[plane], -1);
    assert.ok(Math.abs(t[2 * plane]! - (51 - 127.5) / 127.5) < 1e-6);
  });

  it("sface: NCHW RGB planes of raw 0-255 values", () => {
    const t = toInputTensor([face, face], MODELS.sface.input);
    assert.deepEqual([t[0], t[plane], t[2 * plane], t[3 * plane]], [255, 0, 51, 255]);
  });

  it("mobilefacenet: NHWC RGB, interleaved as in TF.js", () => {
    const t = toInputTensor([face], MODELS.mobilefacenet.input);
    assert.deepEqual([...t.slice(0, 6)], [255, 0, 51, 255, 0, 51]);
  });

  it("yunet: NCHW with channels reversed to BGR, raw 0-255", () => {
    const t = toInputTensor([{ ...face, width: 112, height: 112 }], {
      ...MODELS.yunet.input,
      width: 112,
      height: 112,
    });
    assert.deepEqual([t[0], t[plane], t[2 * plane]], [51, 0, 255]);
  });

  it("refuses images of the wrong size", () => {
    assert.throws(
      () => toInputTensor([{ width: 2, height: 2, data: new Uint8Array(12) }], MODELS.sface.input),
      /expected 112x112/,
    );
  });

  it("L2-normalises embeddings so cosine is a dot product", () => {
    const a = l2Normalise(new Float32Array([3, 4]));
    assert.deepEqual([...a], [0.6000000238418579, 0.800000011920929]);
    assert.ok(Math.abs(cosine(a, l2Normalise(new Float32Array([4, -3])))) < 1e-7);
    assert.deepEqual([...l2Normalise(new Float32Array([0, 0]))], [0, 0], "a zero vector stays zero");
  });
});
