// Real-identity evaluation of an embedder through the worker's own detector and aligner: every
// photo of identityPhotos() is scaled so that its face is a given size, placed in a frame, detected,
// aligned to the embedder's crop and embedded; then every pair of different photos is scored.
// Genuine pairs are different photos of the same person, impostor pairs photos of different people.
import { alignFace } from "../../src/aligner.ts";
import type { DetectedFace, Detector } from "../../src/detectors/detector.ts";
import { cosine, type Embedder } from "../../src/embedders/embedder.ts";
import { type Point, type RgbImage, reduceFor, warpAffine } from "../../src/image.ts";
import { identityPhotos } from "../../src/test-support/face-datasets.ts";
import { decodeImage, paste, solid } from "../../src/test-support/photos.ts";

/** `src` scaled by `scale` (block-averaged first when shrinking, so small faces do not alias). */
export function resize(src: RgbImage, scale: number): RgbImage {
  const { image, block } = reduceFor(src, scale);
  const step = 1 / (scale * block);
  return warpAffine(
    image,
    [step, 0, 0, 0, step, 0],
    Math.round(src.width * scale),
    Math.round(src.height * scale),
  );
}

const GREY: [number, number, number] = [128, 128, 128];

async function largestFace(detector: Detector, frame: RgbImage): Promise<DetectedFace | undefined> {
  return (await detector.detect(frame)).sort((a, b) => b.box.width - a.box.width)[0];
}

export interface PlacedFace {
  readonly frame: RgbImage;
  readonly face: DetectedFace;
  /** The detector's landmarks in the photo's own pixels. */
  readonly landmarksInPhoto: readonly Point[];
}

/**
 * The photo scaled so that the detector's box is about `faceSize` px wide, with a margin of grey
 * around it (dlib's chips are all face), and the face found there; undefined when none is found.
 */
export async function placeFace(
  detector: Detector,
  photo: RgbImage,
  faceSize: number,
): Promise<PlacedFace | undefined> {
  const find = async (scale: number) => {
    const scaled = resize(photo, scale);
    const margin = Math.max(64, Math.round(Math.max(scaled.width, scaled.height) / 2));
    const frame = paste(
      solid(scaled.width + 2 * margin, scaled.height + 2 * margin, GREY),
      scaled,
      margin,
      margin,
      1,
    );
    const face = await largestFace(detector, frame);
    return (
      face && {
        frame,
        face,
        toPhoto: (p: Point) => ({ x: (p.x - margin) / scale, y: (p.y - margin) / scale }),
      }
    );
  };
  const native = await find(1);
  if (!native) return undefined;
  const placed = await find(faceSize / native.face.box.width);
  if (!placed) return undefined;
  return {
    frame: placed.frame,
    face: placed.face,
    landmarksInPhoto: placed.face.landmarks.map(placed.toPhoto),
  };
}

export interface EmbeddedPhoto {
  readonly identity: string;
  readonly file: string;
  readonly embedding: Float32Array;
  readonly landmarksInPhoto: readonly Point[];
}

export interface EmbeddedSet {
  readonly photos: EmbeddedPhoto[];
  /** Photos where no face was found at this size. */
  readonly missed: string[];
}

export async function embedIdentityPhotos(
  detector: Detector,
  embedder: Embedder,
  faceSize: number,
): Promise<EmbeddedSet> {
  const photos: EmbeddedPhoto[] = [];
  const missed: string[] = [];
  for (const { identity, file } of identityPhotos()) {
    const placed = await placeFace(detector, decodeImage(file), faceSize);
    if (!placed) {
      missed.push(file);
      continue;
    }
    const [embedding] = await embedder.embed([alignFace(placed.frame, placed.face.landmarks, embedder.crop)]);
    photos.push({ identity, file, embedding: embedding!, landmarksInPhoto: placed.landmarksInPhoto });
  }
  return { photos, missed };
}

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly sd: number;
  readonly min: number;
  readonly p5: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
}

export interface VerificationReport {
  readonly genuine: Distribution;
  readonly impostor: Distribution;
  /** Equal error rate and the cosine threshold where false accepts and false rejects meet. */
  readonly eer: number;
  readonly eerThreshold: number;
  /** True accept rate at the lowest threshold whose false accept rate is at most `far`. */
  readonly tarAt: readonly { far: number; tar: number; threshold: number }[];
  /** Share of photos (of people with another photo) whose most similar other photo is the same person. */
  readonly rank1: number;
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const sd = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / sorted.length);
  return {
    count: sorted.length,
    mean,
    sd,
    min: sorted[0]!,
    p5: at(0.05),
    median: at(0.5),
    p95: at(0.95),
    max: sorted.at(-1)!,
  };
}

export function verify(
  photos: readonly EmbeddedPhoto[],
  fars: readonly number[] = [1e-2, 1e-3],
): VerificationReport {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let i = 0; i < photos.length; i++)
    for (let j = i + 1; j < photos.length; j++)
      (photos[i]!.identity === photos[j]!.identity ? genuine : impostor).push(
        cosine(photos[i]!.embedding, photos[j]!.embedding),
      );
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  // Share of `sorted` at or above t, by binary search.
  const atOrAbove = (sorted: number[], t: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return (sorted.length - lo) / sorted.length;
  };
  // Candidate thresholds: every score (accepting at >= t) and one above all of them.
  const thresholds = [...g, ...im, Math.max(g.at(-1)!, im.at(-1)!) + 1e-6].sort((a, b) => a - b);
  let eer = 1;
  let eerThreshold = 0;
  for (const t of thresholds) {
    const worst = Math.max(atOrAbove(im, t), 1 - atOrAbove(g, t));
    if (worst < eer) {
      eer = worst;
      eerThreshold = t;
    }
  }
  const tarAt = fars.map((far) => {
    const threshold = thresholds.find((t) => atOrAbove(im, t) <= far)!;
    return { far, tar: atOrAbove(g, threshold), threshold };
  });
  let probes = 0;
  let hits = 0;
  for (const [i, probe] of photos.entries()) {
    if (!photos.some((p, j) => j !== i && p.identity === probe.identity)) continue;
    let best = -Infinity;
    let bestIdentity = "";
    for (const [j, other] of photos.entries()) {
      if (j === i) continue;
      const score = cosine(probe.embedding, other.embedding);
      if (score > best) {
        best = score;
        bestIdentity = other.identity;
      }
    }
    probes++;
    if (bestIdentity === probe.identity) hits++;
  }
  return {
    genuine: distribution(genuine),
    impostor: distribution(impostor),
    eer,
    eerThreshold,
    tarAt,
    rank1: hits / probes,
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const f3 = (v: number) => v.toFixed(3);

export function formatDistribution(d: Distribution): string {
  return `n ${d.count}, mean ${f3(d.mean)} ± ${f3(d.sd)}, min ${f3(d.min)}, p5 ${f3(d.p5)}, median ${f3(d.median)}, p95 ${f3(d.p95)}, max ${f3(d.max)}`;
}

export function formatReport(r: VerificationReport): string {
  return [
    `EER ${pct(r.eer)} (cos ${f3(r.eerThreshold)})`,
    ...r.tarAt.map((t) => `TAR@FAR ${t.far} ${pct(t.tar)} (cos ≥ ${f3(t.threshold)})`),
    `rank-1 ${pct(r.rank1)}`,
  ].join(", ");
}
