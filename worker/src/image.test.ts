import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyAffine, invertAffine, letterbox, type RgbImage, warpAffine } from "./image.ts";

function checker(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.fill((x + y) % 2 ? 200 : 20, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { width, height, data };
}

describe("image", () => {
  it("warps with the identity map to an exact copy", () => {
    const src = checker(7, 5);
    assert.deepEqual(warpAffine(src, [1, 0, 0, 0, 1, 0], 7, 5).data, src.data);
  });

  it("translates by whole pixels exactly and fills outside points", () => {
    const src = checker(6, 6);
    const out = warpAffine(src, [1, 0, 2, 0, 1, 1], 6, 6, 7);
    assert.equal(out.data[0], src.data[(1 * 6 + 2) * 3]);
    assert.equal(out.data[(5 * 6 + 5) * 3], 7, "point (7.5, 6.5) lies outside the source");
  });

  it("inverts affine maps", () => {
    const m = [0.5, -0.8, 10, 0.8, 0.5, -3] as const;
    const p = applyAffine(invertAffine(m), applyAffine(m, { x: 3, y: 4 }));
    assert.ok(Math.abs(p.x - 3) < 1e-9 && Math.abs(p.y - 4) < 1e-9);
  });

  it("letterboxes a 1280x720 frame into 256 px, centring it and mapping corners back exactly", () => {
    const frame = checker(1280, 720);
    const { image, toSource } = letterbox(frame, 256, 128);
    assert.equal(image.width, 256);
    // 720 * 0.2 = 144 rows of picture, 56 rows of padding above and below.
    assert.equal(image.data[(10 * 256 + 100) * 3], 128, "top padding is fill");
    assert.notEqual(image.data[(128 * 256 + 100) * 3], 128, "the middle is picture");
    assert.deepEqual(applyAffine(toSource, { x: 0, y: 56 }), { x: 0, y: 0 });
    assert.deepEqual(applyAffine(toSource, { x: 256, y: 200 }), { x: 1280, y: 720 });
  });

  it("letterboxes a region of the frame", () => {
    const { toSource } = letterbox(checker(1280, 720), 256, 0, { x: 512, y: 0, width: 768, height: 720 });
    const p = applyAffine(toSource, { x: 0, y: 0 });
    assert.equal(p.x, 512);
    assert.ok(Math.abs(p.y - -24) < 1e-9, "768 wide region: 24 rows of padding above");
  });
});
