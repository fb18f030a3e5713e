// The worker's default detector (BlazeFace with MIN_FACE_PX=24 and its second look) on real
// annotated photos (dlib's examples/faces, dogs.jpg; fetched and cached by
// test-support/face-datasets.ts): it finds the people's faces at native size and in 720p frames,
// including faces shrunk to 24 px, and takes no dog for a face. `npm run eval:detection` reports
// every detector.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Detector } from "../../src/detectors/detector.ts";
import { openDetector } from "../../src/detectors/index.ts";
import { MODELS } from "../../src/models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { type ConditionReport, evaluateDetector, formatConditionReport } from "./detection-eval.ts";

// Measured: 43/43, 43/43 and 42/43, one false positive per condition, no dog face.
const MIN_RECALL = { native: 0.95, "720p": 0.95, "720p-24px": 0.9 } as const;
const MAX_FALSE_POSITIVES = 3;

describe("default detector on dlib's annotated faces", () => {
  let detector: Detector;
  let reports: ConditionReport[];
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    requireModel(MODELS.blazefaceFront);
    detector = await openDetector("blazeface", TEST_MODELS_DIR);
    reports = await evaluateDetector(detector);
  });
  after(() => detector?.close());

  for (const condition of ["native", "720p", "720p-24px"] as const) {
    it(`${condition}: recall ≥ ${MIN_RECALL[condition] * 100} %, at most ${MAX_FALSE_POSITIVES} false positives, no dog face`, (t) => {
      const r = reports.find((x) => x.condition === condition)!;
      t.diagnostic(formatConditionReport(r));
      assert.equal(r.faces, 43, "all 43 annotated faces are evaluated");
      assert.ok(r.recall >= MIN_RECALL[condition], formatConditionReport(r));
      assert.ok(r.falsePositives <= MAX_FALSE_POSITIVES, formatConditionReport(r));
      assert.equal(r.dogFaces, 0, formatConditionReport(r));
    });
  }
});
