/** Choosing the face of a photo, with the real detector on real photos: the refusals' rules. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { identityPhotos } from "@facerec/worker/src/test-support/face-datasets.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { ASTRONAUT_PNG } from "@facerec/worker/src/test-support/photos.ts";
import { FaceAnalyzer } from "./face-analyzer.ts";
import { decodePhoto, PhotoRejected } from "./photo.ts";

const RULES = { minFacePx: 60, minScore: 0.75 };
const GROUP_PHOTO = `${identityPhotos()[0]!.file.split("/johns/")[0]}/faces/2008_002506.jpg`;

const rejection = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof PhotoRejected) return err.code;
    throw err;
  }
  return "accepted";
};

describe("FaceAnalyzer.choose", () => {
  let analyzer: FaceAnalyzer;
  before(async () => {
    requireModel(MODELS.dlib);
    requireModel(MODELS.blazefaceBack);
    analyzer = await FaceAnalyzer.open(TEST_MODELS_DIR, "blazeface", ["dlib"], RULES);
  });
  after(() => analyzer?.close());

  it("refuses a face the detector is less sure of than the minimum as face_low_quality", async () => {
    const faces = await analyzer.detect(await decodePhoto(readFileSync(ASTRONAUT_PNG)));
    assert.equal(faces.length, 1);
    const score = faces[0]!.score;
    assert.equal(
      rejection(() => analyzer.choose(faces, undefined, RULES)),
      "accepted",
    );
    assert.equal(
      rejection(() => analyzer.choose(faces, undefined, { ...RULES, minScore: Math.min(1, score + 0.01) })),
      "face_low_quality",
    );
  });

  it("takes the largest of several faces for a search, and refuses an ambiguous enrolment", async () => {
    const faces = await analyzer.detect(await decodePhoto(readFileSync(GROUP_PHOTO)));
    assert.equal(faces.length, 3);
    assert.equal(
      rejection(() => analyzer.choose(faces, undefined, RULES)),
      "multiple_faces",
    );
    const size = (i: number) => Math.max(faces[i]!.box.width, faces[i]!.box.height);
    const largest = [0, 1, 2].reduce((a, b) => (size(b) > size(a) ? b : a));
    assert.equal(analyzer.choose(faces, undefined, RULES, { largest: true }).index, largest);
    assert.equal(analyzer.choose(faces, { faceIndex: 2 }, RULES).index, 2);
    const box = faces[1]!.box;
    const nudged = { x: box.x + 3, y: box.y - 2, width: box.width, height: box.height };
    assert.equal(analyzer.choose(faces, { bbox: nudged }, RULES).index, 1);
    assert.equal(
      rejection(() => analyzer.choose(faces, { bbox: { x: 0, y: 0, width: 10, height: 10 } }, RULES)),
      "face_not_found",
    );
  });

  it("embeds a face as a unit vector of the model's size", async () => {
    const image = await decodePhoto(readFileSync(ASTRONAUT_PNG));
    const [face] = await analyzer.detect(image);
    const vector = await analyzer.embedPrimary(image, face!);
    assert.equal(vector.length, 128);
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-4);
  });
});
