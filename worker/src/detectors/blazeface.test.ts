import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MODELS } from "../models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "../test-support/models.ts";
import {
  ASTRONAUT_PNG,
  crop,
  decodeImage,
  FACEDETECT_JPG,
  gradient,
  paste,
  solid,
} from "../test-support/photos.ts";
import {
  BLAZEFACE_BACK,
  BlazeFaceDetector,
  blazeFaceAnchors,
  decodeBlazeFaceLayer,
  detectionTiles,
} from "./blazeface.ts";
import { iou } from "./detector.ts";
import { weightedNms } from "./nms.ts";

describe("BlazeFace decoding", () => {
  it("lays out 896 anchors: 16x16 cells x 2, then 8x8 cells x 6, for both models", () => {
    for (const [size, strides] of [
      [256, [16, 32]],
      [128, [8, 16]],
    ] as const) {
      const [fine, coarse] = blazeFaceAnchors(size, strides);
      assert.equal(fine!.length / 2 + coarse!.length / 2, 896);
      assert.deepEqual(
        [...fine!.slice(0, 4)],
        [0.5 / 16, 0.5 / 16, 0.5 / 16, 0.5 / 16],
        "two anchors share a cell",
      );
      assert.deepEqual([fine![4], fine![5]], [1.5 / 16, 0.5 / 16], "cells run along x first");
      assert.equal(coarse![2 * 6], 1.5 / 8, "six anchors per coarse cell");
    }
  });

  it("decodes a box and keypoints relative to the anchor, in input pixels, with a sigmoid score", () => {
    const anchors = new Float32Array([0.25, 0.5, 0.75, 0.5]);
    const scores = new Float32Array([-5, 2]);
    const boxes = new Float32Array(32);
    boxes.set([4, -2, 40, 50, -10, -8, 10, -8, 0, 2, 0, 12], 16);
    const [face, ...rest] = decodeBlazeFaceLayer(scores, boxes, anchors, 256, 0.5);
    assert.equal(rest.length, 0, "the anchor scoring sigmoid(-5) is dropped");
    assert.ok(Math.abs(face!.score - 1 / (1 + Math.exp(-2))) < 1e-12);
    // Anchor centre (192, 128); box centre (196, 126), 40x50.
    assert.deepEqual(face!.box, { x: 176, y: 101, width: 40, height: 50 });
    assert.deepEqual(face!.landmarks, [
      { x: 182, y: 120 },
      { x: 202, y: 120 },
      { x: 192, y: 130 },
      { x: 192, y: 140 },
    ]);
  });

  it("merges overlapping detections into their score-weighted mean", () => {
    const face = (x: number, score: number) => ({
      score,
      box: { x, y: 0, width: 10, height: 10 },
      landmarks: [{ x, y: 0 }],
    });
    const [merged, other] = weightedNms([face(0, 0.9), face(1, 0.3), face(50, 0.8)], 0.3);
    assert.equal(merged!.score, 0.9);
    assert.ok(Math.abs(merged!.box.x - 0.3 / 1.2) < 1e-12);
    assert.equal(other!.box.x, 50);
  });

  it("tiles a 1280x720 frame into 4 x 2 overlapping squares when 24 px faces (MIN_FACE_PX) must be found", () => {
    // 24 px faces reach 14 input pixels in 439 px tiles; they overlap by a third.
    const xs = [0, 280, 561, 841];
    const ys = [0, 281];
    assert.deepEqual(
      detectionTiles(1280, 720, 24, 256),
      xs.flatMap((x) => ys.map((y) => ({ x, y, width: 439, height: 439 }))),
    );
    assert.deepEqual(detectionTiles(1280, 720, 60, 256), [
      { x: 0, y: 0, width: 1098, height: 720 },
      { x: 182, y: 0, width: 1098, height: 720 },
    ]);
    assert.deepEqual(detectionTiles(640, 480, 60, 256), [], "small frames need no tiles for 60 px faces");
  });
});

describe("BlazeFace on real photos", () => {
  let detector: BlazeFaceDetector;
  const astronaut = decodeImage(ASTRONAUT_PNG);
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    detector = await BlazeFaceDetector.open(TEST_MODELS_DIR, BLAZEFACE_BACK);
  });
  after(() => detector?.close());

  it("finds the astronaut's face where it is, with eyes, nose and mouth in order", async () => {
    const faces = await detector.detect(astronaut);
    assert.equal(faces.length, 1);
    const [face] = faces;
    // Her face spans about x 175-275, y 70-185 in the 512x512 photo (checked by eye).
    assert.ok(iou(face!.box, { x: 175, y: 72, width: 102, height: 106 }) > 0.7, JSON.stringify(face!.box));
    const [eyeLeft, eyeRight, nose, mouth] = face!.landmarks;
    assert.ok(eyeLeft!.x < nose!.x && nose!.x < eyeRight!.x, "eye on the image's left comes first");
    assert.ok(eyeLeft!.y < nose!.y && nose!.y < mouth!.y, "eyes above nose above mouth");
    assert.ok(face!.score > 0.8);
  });

  it("finds no face in face-free images: a gradient, and the astronaut photo without her head", async () => {
    assert.deepEqual(await detector.detect(gradient(1280, 720)), []);
    const body = crop(astronaut, 0, 250, 512, 262);
    assert.deepEqual(
      await detector.detect(paste(solid(1280, 720, [110, 110, 110]), body, 300, 200, 1.5)),
      [],
    );
    const flagAndShuttle = crop(astronaut, 330, 0, 182, 290);
    assert.deepEqual(await detector.detect(paste(gradient(1280, 720), flagAndShuttle, 600, 100, 2)), []);
  });

  it("finds faces of 60 to 300 px anywhere in 1280x720 frames and maps boxes back exactly", async () => {
    const people = [
      { photo: astronaut, face: { x: 175, y: 72, width: 102, height: 106 } },
      // The second face crop in the human library's screenshot, a woman with dark hair.
      { photo: decodeImage(FACEDETECT_JPG), face: { x: 193, y: 368, width: 95, height: 95 } },
    ];
    for (const { photo, face } of people) {
      for (const size of [60, 90, 150, 220, 300]) {
        for (const [cx, cy] of [
          [200, 150],
          [640, 360],
          [1080, 560],
        ] as const) {
          const scale = size / face.width;
          const x = cx - (face.x + face.width / 2) * scale;
          const y = cy - (face.y + face.height / 2) * scale;
          const frame = paste(gradient(1280, 720), photo, x, y, scale);
          const expected = {
            x: x + face.x * scale,
            y: y + face.y * scale,
            width: size,
            height: face.height * scale,
          };
          const found = await detector.detect(frame);
          const hit = found.find((f) => iou(f.box, expected) > 0.5);
          assert.ok(hit, `${size} px face at (${cx}, ${cy}): got ${JSON.stringify(found.map((f) => f.box))}`);
        }
      }
    }
  });
});
