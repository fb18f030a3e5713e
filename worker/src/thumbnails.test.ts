import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import jpeg from "jpeg-js";
import { alignFace, cropOf } from "./aligner.ts";
import { BlazeFaceDetector } from "./detectors/blazeface.ts";
import { MODELS } from "./models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "./test-support/models.ts";
import { ASTRONAUT_PNG, decodeImage } from "./test-support/photos.ts";
import { encodeThumbnail, THUMBNAIL_MAX_BYTES, ThumbnailEncoder, ThumbnailPolicy } from "./thumbnails.ts";

const at = (ms: number) => new Date(1_700_000_000_000 + ms);

describe("thumbnails", () => {
  const encoder = new ThumbnailEncoder();
  after(() => encoder.close());

  it("encodes dlib's 150-px face chip of a real photo as a JPEG under 12 KiB that decodes to the same face", async () => {
    requireModel(MODELS.blazefaceBack);
    const photo = decodeImage(ASTRONAUT_PNG);
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    const [face] = await detector.detect(photo);
    await detector.close();
    const chip = alignFace(photo, face!.landmarks, cropOf(MODELS.dlib));
    assert.equal(chip.width, 150);
    const bytes = encodeThumbnail(chip);
    assert.ok(bytes.length > 1000 && bytes.length <= THUMBNAIL_MAX_BYTES, `${bytes.length} bytes`);
    assert.deepEqual([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
    const decoded = jpeg.decode(bytes, { useTArray: true });
    assert.equal(decoded.width, 150);
    let error = 0;
    for (let i = 0, o = 0; i < chip.data.length; i += 3, o += 4)
      for (let c = 0; c < 3; c++) error += Math.abs(chip.data[i + c]! - decoded.data[o + c]!);
    assert.ok(error / chip.data.length < 6, `mean absolute error ${error / chip.data.length}`);
    // The thread gives the same bytes, and leaves the caller's crop alone.
    const before = chip.data.slice();
    assert.deepEqual(await encoder.encode(chip), bytes);
    assert.deepEqual(chip.data, before);
    assert.equal(encoder.totals.count, 1);
  });

  it("best, basic mode: the best-scoring face of a frame, at most once per interval", () => {
    const policy = new ThumbnailPolicy("best", { enhanced: false, everyMs: 1000 });
    const frame = (ms: number, ...scores: number[]) => scores.map((score) => ({ score, capturedAt: at(ms) }));
    assert.deepEqual(policy.choose(frame(0, 0.7, 0.9, 0.8)), [false, true, false]);
    assert.deepEqual(policy.choose(frame(500, 0.9)), [false]);
    assert.deepEqual(policy.choose(frame(1000, 0.8, 0.7)), [true, false]);
    assert.deepEqual(policy.choose([]), []);
  });

  it("best, enhanced mode, and all: every face; off: none", () => {
    const faces = [0.7, 0.9].map((score) => ({ score, capturedAt: at(0) }));
    assert.deepEqual(new ThumbnailPolicy("best", { enhanced: true, everyMs: 1000 }).choose(faces), [
      true,
      true,
    ]);
    const all = new ThumbnailPolicy("all", { enhanced: false, everyMs: 1000 });
    assert.deepEqual(all.choose(faces), [true, true]);
    assert.deepEqual(all.choose(faces), [true, true]);
    assert.deepEqual(new ThumbnailPolicy("off", { enhanced: true, everyMs: 0 }).choose(faces), [
      false,
      false,
    ]);
  });
});
