// `npm run eval:faces`: every embedder whose model file is present, on real photos of real people
// (dlib's examples/johns and face-recognition's Obama/Biden images), at two face sizes, through
// BlazeFace and the aligner. Prints genuine and impostor cosine distributions, EER, TAR at FAR
// 1e-2 and 1e-3 with their thresholds, and rank-1; then where BlazeFace's landmarks fall on dlib's
// own 150-px chips (the check of the dlib crop template in the manifest).
import { BlazeFaceDetector } from "../../src/detectors/blazeface.ts";
import { EMBEDDER_TYPES, embedderEntry, openEmbedder } from "../../src/embedders/index.ts";
import { missingModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { embedIdentityPhotos, formatDistribution, formatReport, verify } from "./identity-eval.ts";

const FACE_SIZES = [150, 70];
const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
const rows: string[] = [
  "| embedder | face px | photos | EER | TAR@1e-2 (cos) | TAR@1e-3 (cos) | rank-1 |",
  "|---|---|---|---|---|---|---|",
];
let chipLandmarks: { x: number; y: number }[][] | undefined;
for (const type of EMBEDDER_TYPES) {
  const skip = missingModel(embedderEntry(type));
  if (skip) {
    process.stdout.write(`${type}: skipped, ${skip}\n`);
    continue;
  }
  const embedder = await openEmbedder(type, TEST_MODELS_DIR);
  for (const size of FACE_SIZES) {
    const set = await embedIdentityPhotos(detector, embedder, size);
    const r = verify(set.photos);
    process.stdout.write(`${type} @ ${size} px: ${formatReport(r)}\n`);
    process.stdout.write(
      `  genuine  ${formatDistribution(r.genuine)}\n  impostor ${formatDistribution(r.impostor)}\n`,
    );
    if (set.missed.length) process.stdout.write(`  no face found in ${set.missed.join(", ")}\n`);
    const [far2, far3] = r.tarAt;
    rows.push(
      `| ${type} | ${size} | ${set.photos.length}/${set.photos.length + set.missed.length} | ${(r.eer * 100).toFixed(1)} % | ${(far2!.tar * 100).toFixed(1)} % (${far2!.threshold.toFixed(3)}) | ${(far3!.tar * 100).toFixed(1)} % (${far3!.threshold.toFixed(3)}) | ${(r.rank1 * 100).toFixed(1)} % |`,
    );
    if (size === 150 && !chipLandmarks)
      chipLandmarks = set.photos
        .filter((p) => p.file.includes("/johns/"))
        .map((p) => [...p.landmarksInPhoto]);
  }
  await embedder.close();
}
await detector.close();
process.stdout.write(`\n${rows.join("\n")}\n`);
if (chipLandmarks) {
  const names = ["eye (image left)", "eye (image right)", "nose tip", "mouth centre"];
  process.stdout.write(
    `\nBlazeFace landmarks on dlib's 150-px chips (mean over ${chipLandmarks.length} johns photos):\n`,
  );
  for (const [i, name] of names.entries()) {
    const xs = chipLandmarks.map((l) => l[i]!.x);
    const ys = chipLandmarks.map((l) => l[i]!.y);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    process.stdout.write(`  ${name}: (${mean(xs).toFixed(1)}, ${mean(ys).toFixed(1)})\n`);
  }
}
