// Detection evaluation on real annotated photos: dlib's examples/faces (43 face boxes in 9 photos of
// people, from PASCAL VOC) and dogs.jpg (dogs, no people). Each photo is run through a detector as
// a frame of its own ("native") and pasted at its own size into a 1280x720 frame ("720p", where the
// detector sees the same faces as a small part of a camera-sized picture), and scaled so that its
// smallest annotated face is 24 px inside a 720p frame ("720p, 24-px faces"). A detection finds an
// annotated face when their boxes overlap by IoU >= MATCH_IOU (one detection per face, best score
// first); detections that find none are false positives.
import type { Box, DetectedFace, Detector } from "../../src/detectors/detector.ts";
import { iou } from "../../src/detectors/detector.ts";
import type { RgbImage } from "../../src/image.ts";
import { annotatedFacePhotos, dogsPhoto } from "../../src/test-support/face-datasets.ts";
import { decodeImage, paste, solid } from "../../src/test-support/photos.ts";
import { resize } from "./identity-eval.ts";

/**
 * dlib's boxes are tight squares from the brows to the chin; BlazeFace's and YuNet's reach the
 * forehead. Matched pairs overlap by 0.5-0.7 (see `meanIou` in the report), unmatched ones by ~0.
 */
export const MATCH_IOU = 0.3;

export const CONDITIONS = ["native", "720p", "720p-24px"] as const;
export type Condition = (typeof CONDITIONS)[number];

const FRAME = { width: 1280, height: 720 };
const GREY: [number, number, number] = [128, 128, 128];

export interface ConditionReport {
  readonly condition: Condition;
  readonly faces: number;
  readonly found: number;
  readonly recall: number;
  readonly meanIou: number;
  /** Detections on the people photos that match no annotated face. */
  readonly falsePositives: number;
  /** Detections on dogs.jpg: every one is a dog (or background) taken for a face. */
  readonly dogFaces: number;
  /** Sizes (px, in the frame the detector saw) of the annotated faces that were missed. */
  readonly missedSizes: readonly number[];
  /** Mean time of one detect() call over this condition's frames, ms. */
  readonly msPerFrame: number;
  /** Every detection, labelled, for studying cheap checks against dog faces. */
  readonly detections: readonly LabelledDetection[];
}

export interface LabelledDetection {
  readonly face: DetectedFace;
  readonly kind: "face" | "false-positive" | "dog";
}

/** The frame a condition makes of a photo, and where the photo's pixel p lands: offset + scale * p. */
export function frameFor(
  photo: RgbImage,
  condition: Condition,
  /** The photo's smallest annotated face, px; without one (dogs) the photo is not shrunk. */
  smallestFace?: number,
): { frame: RgbImage; scale: number; x: number; y: number } {
  if (condition === "native") return { frame: photo, scale: 1, x: 0, y: 0 };
  const scale = condition === "720p-24px" && smallestFace ? Math.min(1, 24 / smallestFace) : 1;
  const fit = Math.min(1, FRAME.width / (photo.width * scale), FRAME.height / (photo.height * scale));
  const s = scale * fit;
  const scaled = s === 1 ? photo : resize(photo, s);
  const x = Math.floor((FRAME.width - scaled.width) / 2);
  const y = Math.floor((FRAME.height - scaled.height) / 2);
  return { frame: paste(solid(FRAME.width, FRAME.height, GREY), scaled, x, y, 1), scale: s, x, y };
}

/** Greedy one-to-one matching, best-scoring detection first. */
export function matchFaces(
  truth: readonly Box[],
  found: readonly DetectedFace[],
  minIou = MATCH_IOU,
): { matched: Map<number, number>; ious: number[] } {
  const matched = new Map<number, number>(); // truth index -> detection index
  const ious: number[] = [];
  const order = found.map((_, i) => i).sort((a, b) => found[b]!.score - found[a]!.score);
  for (const d of order) {
    let best = -1;
    let bestIou = minIou;
    for (const [t, box] of truth.entries()) {
      if (matched.has(t)) continue;
      const overlap = iou(box, found[d]!.box);
      if (overlap >= bestIou) {
        best = t;
        bestIou = overlap;
      }
    }
    if (best >= 0) {
      matched.set(best, d);
      ious.push(bestIou);
    }
  }
  return { matched, ious };
}

export async function evaluateDetector(
  detector: Detector,
  conditions: readonly Condition[] = CONDITIONS,
): Promise<ConditionReport[]> {
  const photos = annotatedFacePhotos().map((p) => ({ ...p, image: decodeImage(p.file) }));
  const dogs = decodeImage(dogsPhoto());
  const reports: ConditionReport[] = [];
  // The first run of a model is slow (onnxruntime prepares it); it should not count as a frame.
  await detector.detect(photos[0]!.image);
  for (const condition of conditions) {
    let faces = 0;
    let falsePositives = 0;
    const ious: number[] = [];
    const missedSizes: number[] = [];
    const detections: LabelledDetection[] = [];
    let detectMs = 0;
    const timedDetect = async (frame: RgbImage) => {
      const start = performance.now();
      const found = await detector.detect(frame);
      detectMs += performance.now() - start;
      return found;
    };
    for (const photo of photos) {
      const smallest = Math.min(...photo.faces.map((f) => f.width));
      const { frame, scale, x, y } = frameFor(photo.image, condition, smallest);
      const truth = photo.faces.map((f) => ({
        x: x + f.x * scale,
        y: y + f.y * scale,
        width: f.width * scale,
        height: f.height * scale,
      }));
      const found = await timedDetect(frame);
      const match = matchFaces(truth, found);
      faces += truth.length;
      ious.push(...match.ious);
      for (const [t, box] of truth.entries())
        if (!match.matched.has(t)) missedSizes.push(Math.round(box.width));
      const hits = new Set(match.matched.values());
      for (const [d, face] of found.entries()) {
        const kind = hits.has(d) ? "face" : "false-positive";
        if (kind === "false-positive") falsePositives++;
        detections.push({ face, kind });
      }
    }
    const dogFrame = frameFor(dogs, condition).frame;
    const dogFaces = await timedDetect(dogFrame);
    for (const face of dogFaces) detections.push({ face, kind: "dog" });
    reports.push({
      condition,
      faces,
      found: ious.length,
      recall: ious.length / faces,
      meanIou: ious.reduce((s, v) => s + v, 0) / Math.max(1, ious.length),
      falsePositives,
      dogFaces: dogFaces.length,
      missedSizes: missedSizes.sort((a, b) => a - b),
      msPerFrame: detectMs / (photos.length + 1),
      detections,
    });
  }
  return reports;
}

export function formatConditionReport(r: ConditionReport): string {
  return `${r.condition}: recall ${r.found}/${r.faces} (${(r.recall * 100).toFixed(1)} %, mean IoU ${r.meanIou.toFixed(2)}), false positives ${r.falsePositives}, dog faces ${r.dogFaces}${r.missedSizes.length ? `, missed faces of ${r.missedSizes.join(", ")} px` : ""}`;
}
