// How good a face shot is for recognition, from what the pipeline already has: the aligned crop
// (sharpness), the detector's box (size) and landmarks (frontalness). All parts and the total are
// in [0, 1].
import type { DetectedFace } from "../detectors/detector.ts";
import type { RgbImage } from "../image.ts";

export interface FaceQuality {
  readonly sharpness: number;
  readonly size: number;
  readonly frontalness: number;
  readonly score: number;
}

// Laplacian variance of a crisp 112x112 aligned face is typically several hundred; blurred or
// upscaled faces fall well under 100. Scores saturate at the crisp end.
const SHARP_LAPLACIAN_VARIANCE = 400;
// Embedders see 112 px; a face box this big loses nothing in alignment.
const FULL_SIZE_PX = 112;

export function faceQuality(face: DetectedFace, aligned: RgbImage): FaceQuality {
  const sharpness = Math.min(1, laplacianVariance(aligned) / SHARP_LAPLACIAN_VARIANCE);
  const size = Math.min(1, Math.max(face.box.width, face.box.height) / FULL_SIZE_PX);
  const frontalness = frontalnessOf(face.landmarks);
  // Geometric weighting: one very poor part (a blurred or profile face) should sink the total.
  const score = sharpness ** 0.4 * size ** 0.3 * frontalness ** 0.3;
  return { sharpness, size, frontalness, score };
}

/** Variance of the 4-neighbour Laplacian of the grey image: high for in-focus detail. */
export function laplacianVariance(image: RgbImage): number {
  const { width, height, data } = image;
  const grey = new Float32Array(width * height);
  for (let i = 0; i < grey.length; i++)
    grey[i] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * 1 for a face looking at the camera, falling towards 0 as it turns (the nose tip moves off the
 * eyes' midline: yaw), tilts (the nose moves towards or past the eye line: pitch) or rolls (the eye
 * line leaves horizontal). Landmarks are in the aligner's order: two eyes, nose tip, then mouth.
 */
export function frontalnessOf(landmarks: readonly { x: number; y: number }[]): number {
  const [a, b, nose] = landmarks;
  if (!a || !b || !nose) return 0;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const eyeDistance = Math.hypot(dx, dy);
  if (eyeDistance === 0) return 0;
  // Nose position in the eye frame: u along the eye line from the midpoint, v perpendicular.
  const mx = (a.x + b.x) / 2;
  const my = (a.y + b.y) / 2;
  const u = ((nose.x - mx) * dx + (nose.y - my) * dy) / eyeDistance / eyeDistance;
  const v = ((nose.y - my) * dx - (nose.x - mx) * dy) / eyeDistance / eyeDistance;
  // On the ArcFace template the nose sits 0.57 eye distances below the eye line, on the midline.
  const yaw = Math.min(1, Math.abs(u) / 0.5);
  const pitch = Math.min(1, Math.abs(v - 0.57) / 0.5);
  const roll = Math.min(1, Math.abs(Math.atan2(dy, dx)) / (Math.PI / 4));
  return Math.max(0, (1 - yaw) * (1 - pitch) * (1 - roll * 0.5));
}
