// Distinct real people for embedding tests, and camera-like variations of each: the face pasted into
// a 1280x720 frame with small shifts, scale changes and brightness changes.
import { alignFace, type FaceCrop } from "../aligner.ts";
import type { Detector } from "../detectors/detector.ts";
import { cosine } from "../embedders/embedder.ts";
import type { RgbImage } from "../image.ts";
import {
  ASTRONAUT_PNG,
  brighten,
  crop,
  decodeImage,
  FACEDETECT_JPG,
  paste,
  SAMPLES_JPG,
  solid,
} from "./photos.ts";

interface IdentitySource {
  readonly name: string;
  readonly file: string;
  /** A region around one person's face, with some context, in the file's pixels. */
  readonly region: readonly [x: number, y: number, width: number, height: number];
}

// Chosen by looking at the photos: seven different people. The man in a suit in samples.jpg's top
// row is left out because he looks like the man in the facedetect screenshot.
const SOURCES: readonly IdentitySource[] = [
  { name: "astronaut", file: ASTRONAUT_PNG, region: [120, 20, 220, 220] },
  { name: "facedetect-man", file: FACEDETECT_JPG, region: [18, 350, 130, 140] },
  { name: "facedetect-woman-dark-hair", file: FACEDETECT_JPG, region: [175, 345, 130, 140] },
  { name: "facedetect-woman-blonde", file: FACEDETECT_JPG, region: [337, 351, 130, 140] },
  { name: "facedetect-woman-auburn", file: FACEDETECT_JPG, region: [482, 350, 130, 140] },
  { name: "facedetect-woman-grey", file: FACEDETECT_JPG, region: [638, 355, 130, 140] },
  { name: "samples-woman-blonde", file: SAMPLES_JPG, region: [180, 0, 100, 110] },
];

export interface Variation {
  readonly name: string;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
  readonly brightness: number;
}

/** The unchanged face and six small changes a camera sees from frame to frame. */
export const VARIATIONS: readonly Variation[] = [
  { name: "base", dx: 0, dy: 0, scale: 1, brightness: 1 },
  { name: "shift 7,5 px", dx: 7, dy: 5, scale: 1, brightness: 1 },
  { name: "shift -12.5,9.5 px", dx: -12.5, dy: 9.5, scale: 1, brightness: 1 },
  { name: "scale 0.85", dx: 0, dy: 0, scale: 0.85, brightness: 1 },
  { name: "scale 1.2", dx: 0, dy: 0, scale: 1.2, brightness: 1 },
  { name: "darker 0.75", dx: 0, dy: 0, scale: 1, brightness: 0.75 },
  { name: "brighter 1.3", dx: 0, dy: 0, scale: 1, brightness: 1.3 },
];

export interface IdentityFrames {
  readonly name: string;
  /** One 1280x720 frame per VARIATIONS entry, same order. */
  readonly frames: RgbImage[];
}

/**
 * Each identity's face region scaled so its longer side is about `faceRegionSize` pixels, pasted
 * near the middle of a grey 1280x720 frame, once per variation.
 */
export function identityFrames(faceRegionSize = 220): IdentityFrames[] {
  const decoded = new Map<string, RgbImage>();
  return SOURCES.map((source) => {
    const image = decoded.get(source.file) ?? decodeImage(source.file);
    decoded.set(source.file, image);
    const [x, y, w, h] = source.region;
    const face = crop(image, x, y, w, h);
    const fit = faceRegionSize / Math.max(w, h);
    const frames = VARIATIONS.map((v) => {
      const frame = paste(solid(1280, 720, [110, 110, 110]), face, 520 + v.dx, 220 + v.dy, fit * v.scale);
      return v.brightness === 1 ? frame : brighten(frame, v.brightness);
    });
    return { name: source.name, frames };
  });
}

export interface AlignedFace {
  readonly identity: number;
  readonly variation: number;
  readonly aligned: RgbImage;
}

/** Every identity's frames run through detection and alignment: the embedders' real input. */
export async function alignedIdentityFaces(detector: Detector, crop: FaceCrop): Promise<AlignedFace[]> {
  const faces: AlignedFace[] = [];
  for (const [identity, { name, frames }] of identityFrames().entries()) {
    for (const [variation, frame] of frames.entries()) {
      const [best] = (await detector.detect(frame)).sort((a, b) => b.score - a.score);
      if (!best) throw new Error(`no face found for ${name}, ${VARIATIONS[variation]!.name}`);
      faces.push({ identity, variation, aligned: alignFace(frame, best.landmarks, crop) });
    }
  }
  return faces;
}

export interface Separation {
  /** Lowest / mean cosine between two shots of the same person. */
  readonly sameMin: number;
  readonly sameMean: number;
  /** Mean / highest cosine between shots of different people. */
  readonly differentMean: number;
  readonly differentMax: number;
  /** sameMin - differentMax: positive when one threshold separates everyone. */
  readonly margin: number;
  /** (sameMean - differentMean) over the pooled standard deviation. */
  readonly dPrime: number;
  /** Share of shots whose most similar other shot shows the same person. */
  readonly nearestNeighbourAccuracy: number;
}

export function separation(identities: readonly number[], embeddings: readonly Float32Array[]): Separation {
  const same: number[] = [];
  const different: number[] = [];
  let correct = 0;
  for (let a = 0; a < embeddings.length; a++) {
    let best = -Infinity;
    let bestIdentity = -1;
    for (let b = 0; b < embeddings.length; b++) {
      if (a === b) continue;
      const c = cosine(embeddings[a]!, embeddings[b]!);
      if (b > a) (identities[a] === identities[b] ? same : different).push(c);
      if (c > best) {
        best = c;
        bestIdentity = identities[b]!;
      }
    }
    if (bestIdentity === identities[a]) correct++;
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = (xs: number[]) => mean(xs.map((x) => (x - mean(xs)) ** 2));
  const sameMin = Math.min(...same);
  const differentMax = Math.max(...different);
  return {
    sameMin,
    sameMean: mean(same),
    differentMean: mean(different),
    differentMax,
    margin: sameMin - differentMax,
    dPrime: (mean(same) - mean(different)) / Math.sqrt((variance(same) + variance(different)) / 2),
    nearestNeighbourAccuracy: correct / embeddings.length,
  };
}

export function formatSeparation(s: Separation): string {
  const f = (x: number) => x.toFixed(4);
  return `same min ${f(s.sameMin)} mean ${f(s.sameMean)} | different mean ${f(s.differentMean)} max ${f(s.differentMax)} | margin ${f(s.margin)} | d' ${s.dPrime.toFixed(2)} | nearest-neighbour ${(s.nearestNeighbourAccuracy * 100).toFixed(1)}%`;
}
