// `npm run eval:detection`: recall, false positives and dog faces of every detector whose model is
// present, on dlib's examples/faces and dogs.jpg at native size, in 720p frames, and shrunk so the
// smallest faces are 24 px in 720p frames (see detection-eval.ts). Rows: the worker's detector as
// configured by default (MIN_FACE_PX=24, second look), the same without the second look, the
// settings before MIN_FACE_PX (40 px, tiles for 60 px faces), and the front model alone.
import {
  BLAZEFACE_BACK,
  BLAZEFACE_FRONT,
  BlazeFaceDetector,
  DEFAULT_BLAZEFACE_OPTIONS,
} from "../../src/detectors/blazeface.ts";
import type { Detector } from "../../src/detectors/detector.ts";
import { openDetector } from "../../src/detectors/index.ts";
import { MODELS } from "../../src/models/manifest.ts";
import { missingModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { evaluateDetector, formatConditionReport, MATCH_IOU } from "./detection-eval.ts";

const candidates: {
  name: string;
  model: (typeof MODELS)[keyof typeof MODELS];
  open: () => Promise<Detector>;
}[] = [
  {
    name: "blazeface (default: MIN_FACE_PX 24, second look)",
    model: MODELS.blazefaceBack,
    open: () => openDetector("blazeface", TEST_MODELS_DIR),
  },
  {
    name: "blazeface, no second look",
    model: MODELS.blazefaceBack,
    open: () =>
      BlazeFaceDetector.open(TEST_MODELS_DIR, BLAZEFACE_BACK, {
        ...DEFAULT_BLAZEFACE_OPTIONS,
        secondLookScore: 0,
      }),
  },
  {
    name: "blazeface, before (40 px, tiles for 60 px)",
    model: MODELS.blazefaceBack,
    open: () =>
      BlazeFaceDetector.open(TEST_MODELS_DIR, BLAZEFACE_BACK, {
        ...DEFAULT_BLAZEFACE_OPTIONS,
        minFaceSize: 40,
        // The old tiles (768 px for 1280x720, made for 60 px faces at 20 input px) at today's 14.
        tileForFacesOf: 42,
        secondLookScore: 0,
      }),
  },
  {
    name: "blazeface front 128 (whole frame)",
    model: MODELS.blazefaceFront,
    open: () =>
      BlazeFaceDetector.open(TEST_MODELS_DIR, BLAZEFACE_FRONT, {
        ...DEFAULT_BLAZEFACE_OPTIONS,
        tileForFacesOf: 0,
        secondLookScore: 0,
      }),
  },
  { name: "yunet (MIN_FACE_PX 24)", model: MODELS.yunet, open: () => openDetector("yunet", TEST_MODELS_DIR) },
];

const rows = [
  "| detector | frames | recall | false positives | dog faces | ms/frame |",
  "|---|---|---|---|---|---|",
];
for (const { name, model, open } of candidates) {
  const skip = missingModel(model);
  if (skip) {
    process.stdout.write(`${name}: skipped, ${skip}\n`);
    continue;
  }
  const detector = await open();
  process.stdout.write(`${name}\n`);
  for (const r of await evaluateDetector(detector)) {
    process.stdout.write(`  ${formatConditionReport(r)}\n`);
    rows.push(
      `| ${name} | ${r.condition} | ${r.found}/${r.faces} (${(r.recall * 100).toFixed(1)} %) | ${r.falsePositives} | ${r.dogFaces} | ${r.msPerFrame.toFixed(0)} |`,
    );
  }
  await detector.close();
}
process.stdout.write(
  `\n(a face is found when a detection overlaps its box by IoU >= ${MATCH_IOU})\n\n${rows.join("\n")}\n`,
);
