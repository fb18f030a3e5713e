import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MODELS } from "../models/manifest.ts";
import { missingModel, TEST_MODELS_DIR } from "../test-support/models.ts";
import { ASTRONAUT_PNG, decodeImage, gradient } from "../test-support/photos.ts";
import { iou } from "./detector.ts";
import { hardNms } from "./nms.ts";
import { decodeYunetStride, YunetDetector } from "./yunet.ts";

describe("YuNet decoding", () => {
  it("decodes one confident cell of a stride-16 grid into box, score and five landmarks", () => {
    // A 64x32 input at stride 16 has 4 x 2 cells; cell (row 1, col 2) is index 6.
    const cells = 8;
    const out = {
      cls: new Float32Array(cells),
      obj: new Float32Array(cells),
      bbox: new Float32Array(cells * 4),
      kps: new Float32Array(cells * 10),
    };
    out.cls[6] = 0.81;
    out.obj[6] = 1;
    out.cls[1] = 0.5;
    out.obj[1] = 0.5; // score 0.5: below the threshold
    out.bbox.set([0.25, 0.5, Math.log(2), Math.log(3)], 24);
    out.kps.set([-0.5, -0.5, 0.5, -0.5, 0, 0, -0.25, 0.5, 0.25, 0.5], 60);
    const faces = decodeYunetStride(out, 16, 64, 32, 0.6);
    assert.equal(faces.length, 1);
    const [face] = faces;
    assert.ok(Math.abs(face!.score - 0.9) < 1e-6, "score is sqrt(cls * obj)");
    // Centre ((2 + 0.25) * 16, (1 + 0.5) * 16) = (36, 24); size (2 * 16, 3 * 16) = (32, 48).
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-4, `${a} != ${b}`);
    near(face!.box.x, 20);
    near(face!.box.y, 0);
    near(face!.box.width, 32);
    near(face!.box.height, 48);
    assert.deepEqual(face!.landmarks[0], { x: 24, y: 8 });
    assert.deepEqual(face!.landmarks[4], { x: 36, y: 24 });
  });

  it("clamps cls and obj into [0, 1] before combining them", () => {
    const out = {
      cls: new Float32Array([1.2]),
      obj: new Float32Array([1.5]),
      bbox: new Float32Array(4),
      kps: new Float32Array(10),
    };
    assert.equal(decodeYunetStride(out, 8, 8, 8, 0.5)[0]!.score, 1);
  });

  it("keeps the best of overlapping boxes", () => {
    const face = (x: number, score: number) => ({
      score,
      box: { x, y: 0, width: 10, height: 10 },
      landmarks: [],
    });
    assert.deepEqual(
      hardNms([face(1, 0.7), face(0, 0.9), face(30, 0.8)], 0.3).map((f) => f.score),
      [0.9, 0.8],
    );
  });
});

describe("YuNet on real photos", () => {
  const skip = missingModel(MODELS.yunet);
  it("finds the astronaut's face and none in a gradient", { skip }, async () => {
    const detector = await YunetDetector.open(TEST_MODELS_DIR);
    try {
      const [face, ...others] = await detector.detect(decodeImage(ASTRONAUT_PNG));
      assert.equal(others.length, 0);
      assert.ok(iou(face!.box, { x: 175, y: 72, width: 102, height: 106 }) > 0.6, JSON.stringify(face!.box));
      assert.equal(face!.landmarks.length, 5);
      assert.ok(
        face!.landmarks[0]!.x < face!.landmarks[1]!.x,
        "eye on the image's left first (ArcFace order)",
      );
      assert.deepEqual(await detector.detect(gradient(1280, 720)), []);
    } finally {
      await detector.close();
    }
  });
});
