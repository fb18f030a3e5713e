// The one interface every face detector implements, and the options they share.
import { type Affine, applyAffine, type Point, type RgbImage } from "../image.ts";

/** Axis-aligned box in frame pixels; (x, y) is the top-left corner. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DetectedFace {
  readonly box: Box;
  /**
   * Alignment landmarks in frame pixels, in the aligner's order: five points (eye on the image's
   * left, other eye, nose tip, mouth corner on the left, other corner), or four (eyes, nose tip,
   * mouth centre) for detectors without mouth corners.
   */
  readonly landmarks: readonly Point[];
  /** Confidence in [0, 1]. */
  readonly score: number;
}

export interface Detector {
  /** Model id, e.g. `mediapipe/blazeface-back-256`. */
  readonly model: string;
  detect(frame: RgbImage): Promise<DetectedFace[]>;
  close(): Promise<void>;
}

export interface DetectorOptions {
  /** Faces scoring below this are dropped. */
  readonly scoreThreshold: number;
  /**
   * Faces whose box is smaller than this many pixels (on its longer side) are dropped; BlazeFace
   * also scans tiles small enough to find them (MIN_FACE_PX).
   */
  readonly minFaceSize: number;
  /** Boxes overlapping a better one by more than this IoU are merged into it. */
  readonly nmsIouThreshold: number;
}

/** MIN_FACE_PX's default: faces of 24 px in 720p frames are found (`npm run eval:detection`). */
export const DEFAULT_MIN_FACE_PX = 24;

/**
 * The smallest detector box kept when faces of `minFacePx` should be found: BlazeFace's boxes of
 * faces annotated as 24 px (dlib's tight brow-to-chin squares) measure 19-23 px.
 */
export const minBoxFor = (minFacePx: number): number => Math.round(minFacePx * 0.75);

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  scoreThreshold: 0.6,
  minFaceSize: minBoxFor(DEFAULT_MIN_FACE_PX),
  nmsIouThreshold: 0.3,
};

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inner = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inner;
  return union > 0 ? inner / union : 0;
}

/** Maps a face found in a letterboxed model input back to the frame (uniform scale + shift only). */
export function mapFaceToFrame(face: DetectedFace, toSource: Affine): DetectedFace {
  const topLeft = applyAffine(toSource, face.box);
  return {
    score: face.score,
    box: {
      x: topLeft.x,
      y: topLeft.y,
      width: face.box.width * toSource[0],
      height: face.box.height * toSource[4],
    },
    landmarks: face.landmarks.map((p) => applyAffine(toSource, p)),
  };
}

/** Clips box and landmarks to the frame: the ingest contract wants non-negative coordinates. */
export function clipToFrame(face: DetectedFace, frame: RgbImage): DetectedFace {
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const x = clamp(face.box.x, frame.width);
  const y = clamp(face.box.y, frame.height);
  return {
    score: face.score,
    box: {
      x,
      y,
      width: clamp(face.box.x + face.box.width, frame.width) - x,
      height: clamp(face.box.y + face.box.height, frame.height) - y,
    },
    landmarks: face.landmarks.map((p) => ({ x: clamp(p.x, frame.width), y: clamp(p.y, frame.height) })),
  };
}
