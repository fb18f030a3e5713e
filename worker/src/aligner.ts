// Face alignment: the least-squares similarity transform (rotation, uniform scale, translation)
// taking a detector's landmarks onto the landmark template of the embedder's crop (its manifest
// entry says which: ArcFace's 112x112 layout, dlib's 150x150 chip, ...), then a bilinear warp of
// the frame into that crop.
import { type Affine, invertAffine, type Point, type RgbImage, warpAffine } from "./image.ts";
import type { CropTemplate, EmbedderEntry } from "./models/manifest.ts";

/** The crop an embedder wants: its side in pixels and its landmark templates. */
export interface FaceCrop {
  readonly size: number;
  readonly template: CropTemplate;
}

export function cropOf(entry: EmbedderEntry): FaceCrop {
  return { size: entry.input.width, template: entry.crop };
}

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

export function templateFor(crop: FaceCrop, landmarks: readonly Point[]): readonly Point[] {
  const points =
    landmarks.length === 5
      ? crop.template.fivePoint
      : landmarks.length === 4
        ? crop.template.fourPoint
        : undefined;
  if (!points)
    throw new Error(
      `cannot align ${landmarks.length} landmarks: expected 5 (eyes, nose, mouth corners) or 4 (eyes, nose, mouth)`,
    );
  return points.map(([x, y]) => ({ x, y }));
}

/** The aligned face crop of `frame` for the given landmarks, as `crop` lays it out. */
export function alignFace(frame: RgbImage, landmarks: readonly Point[], crop: FaceCrop): RgbImage {
  const frameToCrop = fitSimilarity(landmarks, templateFor(crop, landmarks));
  return warpAffine(frame, invertAffine(frameToCrop), crop.size, crop.size);
}
