/**
 * Finds, checks and embeds the face in a photo with the worker's own detector, aligner and
 * embedders (imported from the worker package, not copied), so a face enrolled here and the same
 * face streamed by a worker are embedded by the same code.
 */
import type {
  DetectedFace as DetectedFaceProto,
  FaceSelection,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { AppError } from "@facerec/shared/errors.ts";
import { alignFace, cropOf } from "@facerec/worker/src/aligner.ts";
import { type DetectedFace, type Detector, iou } from "@facerec/worker/src/detectors/detector.ts";
import { type DetectorType, openDetector } from "@facerec/worker/src/detectors/index.ts";
import type { Embedder } from "@facerec/worker/src/embedders/embedder.ts";
import { type EmbedderType, openEmbedder } from "@facerec/worker/src/embedders/index.ts";
import { type Point, type RgbImage, warpAffine } from "@facerec/worker/src/image.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { ModelMissingError } from "@facerec/worker/src/models/onnx-session.ts";
import { status } from "@grpc/grpc-js";
import { encodeJpeg, PhotoRejected } from "./photo.ts";

/** The stored thumbnail: the face aligned to ArcFace's 112x112 layout. */
const THUMBNAIL_CROP = cropOf(MODELS.insightface);
/** The stored region around the face: twice the box, at most this many pixels a side. */
const REGION_MAX_PX = 400;
/** A selection box must overlap the detected face this much. */
const SELECTION_MIN_IOU = 0.3;

export interface EnrolmentRules {
  /** Smallest face (detector box's longer side, photo pixels). */
  minFacePx: number;
  /** Lowest detector score. */
  minScore: number;
}

export interface Embedding {
  model: string;
  dim: number;
  vector: Float32Array;
}

/** What is stored of an enrolled face. */
export interface FaceRecord {
  face: DetectedFace;
  cropJpeg: Buffer;
  cropSize: number;
  regionJpeg: Buffer;
  /** The landmarks in region pixels, x/y pairs. */
  regionLandmarks: number[];
  embeddings: Embedding[];
}

export function toDetectedFaceProto(face: DetectedFace, index: number): DetectedFaceProto {
  const { x, y, width, height } = face.box;
  return { index, bbox: { x, y, width, height }, detScore: face.score };
}

export class FaceAnalyzer {
  readonly detector: Detector;
  /** One per embedding model in use; the first is what searches compare with. */
  readonly embedders: readonly Embedder[];

  private constructor(detector: Detector, embedders: Embedder[]) {
    this.detector = detector;
    this.embedders = embedders;
  }

  /**
   * The detector looks for faces down to two thirds of the enrolment minimum: smaller ones could
   * only be refused, and each halving of the size costs BlazeFace more tiles per photo; those in
   * between are found so that they can be refused as `face_too_small` rather than not found.
   */
  static async open(
    modelsDir: string,
    detector: DetectorType,
    embedders: readonly EmbedderType[],
    rules: EnrolmentRules,
  ) {
    return new FaceAnalyzer(
      await openDetector(detector, modelsDir, { minFacePx: Math.round((rules.minFacePx * 2) / 3) }),
      await Promise.all(embedders.map((type) => openEmbedder(type, modelsDir))),
    );
  }

  get primary(): Embedder {
    return this.embedders[0]!;
  }

  /** Every face in the photo, left to right. */
  async detect(image: RgbImage): Promise<DetectedFace[]> {
    return (await this.detector.detect(image)).sort((a, b) => a.box.x - b.box.x);
  }

  /**
   * The one face the request means: the selected one; else the only one (faces too small to enrol
   * do not make a photo with one usable face ambiguous); else `largest` when the caller wants it
   * (search). Refuses it when too small or unclear for `rules`.
   */
  choose(
    faces: DetectedFace[],
    selection: FaceSelection | undefined,
    rules: EnrolmentRules,
    opts: { largest?: boolean } = {},
  ): { face: DetectedFace; index: number } {
    const listed = faces.map(toDetectedFaceProto);
    if (faces.length === 0) throw new PhotoRejected("no_face_found", "no face was found in the photo");
    const size = (f: DetectedFace) => Math.max(f.box.width, f.box.height);
    let index: number;
    if (selection?.faceIndex !== undefined) {
      index = selection.faceIndex;
      if (index >= faces.length)
        throw new PhotoRejected(
          "face_not_found",
          `faceIndex ${index} is out of range: the photo has ${faces.length} face(s)`,
          listed,
        );
    } else if (selection?.bbox) {
      const box = selection.bbox;
      const overlaps = faces.map((f) => iou(f.box, box));
      index = overlaps.indexOf(Math.max(...overlaps));
      if (overlaps[index]! < SELECTION_MIN_IOU)
        throw new PhotoRejected("face_not_found", "no detected face overlaps the given bbox", listed);
    } else {
      const usable = faces.map((f, i) => [f, i] as const).filter(([f]) => size(f) >= rules.minFacePx);
      if (faces.length === 1 || usable.length === 1) index = usable[0]?.[1] ?? 0;
      else if (opts.largest) index = faces.indexOf(faces.reduce((a, b) => (size(b) > size(a) ? b : a)));
      else
        throw new PhotoRejected(
          "multiple_faces",
          `the photo has ${faces.length} faces; name one with faceIndex or bbox`,
          listed,
        );
    }
    const face = faces[index]!;
    if (size(face) < rules.minFacePx)
      throw new PhotoRejected(
        "face_too_small",
        `the face is ${Math.round(size(face))} px; at least ${rules.minFacePx} px are needed`,
        [listed[index]!],
      );
    if (face.score < rules.minScore)
      throw new PhotoRejected(
        "face_low_quality",
        `the detector is only ${(face.score * 100).toFixed(0)} % sure of this face; at least ${(rules.minScore * 100).toFixed(0)} % is needed`,
        [listed[index]!],
      );
    return { face, index };
  }

  /** The first embedder's embedding of a face of `image`. */
  async embedPrimary(image: RgbImage, face: DetectedFace): Promise<Float32Array> {
    const [vector] = await this.primary.embed([alignFace(image, face.landmarks, this.primary.crop)]);
    return vector!;
  }

  /** Everything stored of a face: thumbnail, the region around it, one embedding per model. */
  async record(image: RgbImage, face: DetectedFace): Promise<FaceRecord> {
    const region = cutRegion(image, face);
    const embeddings: Embedding[] = [];
    for (const embedder of this.embedders) {
      const [vector] = await embedder.embed([alignFace(image, face.landmarks, embedder.crop)]);
      embeddings.push({ model: embedder.model, dim: embedder.dim, vector: vector! });
    }
    return {
      face,
      cropJpeg: await encodeJpeg(alignFace(image, face.landmarks, THUMBNAIL_CROP)),
      cropSize: THUMBNAIL_CROP.size,
      regionJpeg: await encodeJpeg(region.image, 95),
      regionLandmarks: region.landmarks.flatMap((p) => [p.x, p.y]),
      embeddings,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.close(), ...this.embedders.map((e) => e.close())]);
  }
}

/**
 * The analyzer, opened at start, or, when a model file is missing then (a fresh checkout before
 * `npm run models`), at the first request that needs it: people can be managed meanwhile, and
 * photos are answered UNAVAILABLE `models_missing` with what to run.
 */
export class AnalyzerSlot {
  readonly #open: () => Promise<FaceAnalyzer>;
  #analyzer: Promise<FaceAnalyzer> | undefined;

  constructor(open: () => Promise<FaceAnalyzer>) {
    this.#open = open;
  }

  get(): Promise<FaceAnalyzer> {
    this.#analyzer ??= this.#open().catch((err: unknown) => {
      this.#analyzer = undefined;
      if (err instanceof ModelMissingError)
        throw new AppError(status.UNAVAILABLE, "models_missing", err.message);
      throw err;
    });
    return this.#analyzer;
  }

  async close(): Promise<void> {
    const analyzer = await this.#analyzer?.catch(() => undefined);
    await analyzer?.close();
  }
}

/** A square of twice the face box around its centre, scaled down to REGION_MAX_PX at most. */
function cutRegion(image: RgbImage, face: DetectedFace): { image: RgbImage; landmarks: Point[] } {
  const side = 2 * Math.max(face.box.width, face.box.height);
  const x0 = face.box.x + face.box.width / 2 - side / 2;
  const y0 = face.box.y + face.box.height / 2 - side / 2;
  const out = Math.min(REGION_MAX_PX, Math.round(side));
  const scale = side / out;
  return {
    image: warpAffine(image, [scale, 0, x0, 0, scale, y0], out, out),
    landmarks: face.landmarks.map((p) => ({ x: (p.x - x0) / scale, y: (p.y - y0) / scale })),
  };
}
