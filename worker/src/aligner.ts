// Face alignment: the least-squares similarity transform (rotation, uniform scale, translation)
// taking a detector's landmarks onto the standard 112x112 ArcFace five-point template, then a
// bilinear warp of the frame into that 112x112 crop, which every embedder here was trained on.
import { type Affine, invertAffine, type Point, type RgbImage, warpAffine } from "./image.ts";

export const ALIGNED_SIZE = 112;

/**
 * InsightFace's arcface_dst in OpenCV pixel-index coordinates: eye on the image's left, other eye,
 * nose tip, left mouth corner, right mouth corner.
 */
const ARCFACE_TEMPLATE_INDEX: readonly (readonly [number, number])[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

// This codebase uses continuous coordinates (pixel i spans [i, i+1)), OpenCV uses pixel centres,
// so the template moves by half a pixel.
const toContinuous = ([x, y]: readonly [number, number]): Point => ({ x: x + 0.5, y: y + 0.5 });

/** The five-point template for detectors with mouth corners (YuNet). */
export const TEMPLATE_5: readonly Point[] = ARCFACE_TEMPLATE_INDEX.map(toContinuous);

/**
 * The four-point template for BlazeFace's eyes, nose tip and mouth centre: the first three ArcFace
 * points and the mean of the two mouth corners.
 */
export const TEMPLATE_4: readonly Point[] = [
  ...TEMPLATE_5.slice(0, 3),
  { x: (TEMPLATE_5[3]!.x + TEMPLATE_5[4]!.x) / 2, y: (TEMPLATE_5[3]!.y + TEMPLATE_5[4]!.y) / 2 },
];

/**
 * The similarity transform x' = a*x - b*y + tx, y' = b*x + a*y + ty minimising the squared
 * distances from the mapped `from` points to the `to` points (closed form: centre both sets,
 * then a and b are the normalised dot and cross sums).
 */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Affine {
  if (from.length !== to.length || from.length < 2) throw new Error("need at least two matching point pairs");
  const n = from.length;
  const mean = (pts: readonly Point[]) => ({
    x: pts.reduce((s, p) => s + p.x, 0) / n,
    y: pts.reduce((s, p) => s + p.y, 0) / n,
  });
  const fm = mean(from);
  const tm = mean(to);
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]!.x - fm.x;
    const py = from[i]!.y - fm.y;
    const qx = to[i]!.x - tm.x;
    const qy = to[i]!.y - tm.y;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error("landmarks coincide");
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, tm.x - (a * fm.x - b * fm.y), b, a, tm.y - (b * fm.x + a * fm.y)];
}

export function templateFor(landmarks: readonly Point[]): readonly Point[] {
  if (landmarks.length === 5) return TEMPLATE_5;
  if (landmarks.length === 4) return TEMPLATE_4;
  throw new Error(
    `cannot align ${landmarks.length} landmarks: expected 5 (ArcFace order) or 4 (eyes, nose, mouth)`,
  );
}

/** The 112x112 aligned face crop of `frame` for the given landmarks. */
export function alignFace(frame: RgbImage, landmarks: readonly Point[]): RgbImage {
  const frameToCrop = fitSimilarity(landmarks, templateFor(landmarks));
  return warpAffine(frame, invertAffine(frameToCrop), ALIGNED_SIZE, ALIGNED_SIZE);
}
