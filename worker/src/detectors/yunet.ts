// OpenCV Zoo YuNet (face_detection_yunet_2023mar.onnx): one NCHW BGR 0-255 image in; for each of
// the strides 8, 16 and 32 four outputs over the grid cells: `cls_<s>` and `obj_<s>` (one value per
// cell, score = sqrt(cls * obj)), `bbox_<s>` (centre offset in cells, log width and height in
// strides) and `kps_<s>` (five landmarks as offsets in cells, already in ArcFace order).
import { letterbox, type RgbImage } from "../image.ts";
import { toInputTensor } from "../models/input-tensor.ts";
import { MODELS } from "../models/manifest.ts";
import { type ModelSession, openSession, ort } from "../models/onnx-session.ts";
import {
  clipToFrame,
  DEFAULT_DETECTOR_OPTIONS,
  type DetectedFace,
  type Detector,
  type DetectorOptions,
  mapFaceToFrame,
} from "./detector.ts";
import { hardNms } from "./nms.ts";

export const YUNET_STRIDES = [8, 16, 32] as const;

export interface YunetOutputs {
  readonly cls: Float32Array;
  readonly obj: Float32Array;
  readonly bbox: Float32Array;
  readonly kps: Float32Array;
}

/** Faces in input pixels from one stride's outputs over a width x height input. */
export function decodeYunetStride(
  out: YunetOutputs,
  stride: number,
  width: number,
  height: number,
  scoreThreshold: number,
): DetectedFace[] {
  const cols = Math.ceil(width / stride);
  const rows = Math.ceil(height / stride);
  const faces: DetectedFace[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const cls = Math.min(1, Math.max(0, out.cls[i]!));
      const obj = Math.min(1, Math.max(0, out.obj[i]!));
      const score = Math.sqrt(cls * obj);
      if (score < scoreThreshold) continue;
      const cx = (c + out.bbox[i * 4]!) * stride;
      const cy = (r + out.bbox[i * 4 + 1]!) * stride;
      const w = Math.exp(out.bbox[i * 4 + 2]!) * stride;
      const h = Math.exp(out.bbox[i * 4 + 3]!) * stride;
      faces.push({
        score,
        box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h },
        landmarks: [0, 1, 2, 3, 4].map((k) => ({
          x: (c + out.kps[i * 10 + 2 * k]!) * stride,
          y: (r + out.kps[i * 10 + 2 * k + 1]!) * stride,
        })),
      });
    }
  }
  return faces;
}

export class YunetDetector implements Detector {
  readonly model = MODELS.yunet.id;
  readonly #session: ModelSession;
  readonly #options: DetectorOptions;

  private constructor(session: ModelSession, options: DetectorOptions) {
    this.#session = session;
    this.#options = options;
  }

  static async open(
    modelsDir: string,
    options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ): Promise<YunetDetector> {
    return new YunetDetector(await openSession(modelsDir, MODELS.yunet), options);
  }

  async detect(frame: RgbImage): Promise<DetectedFace[]> {
    const spec = MODELS.yunet.input;
    const boxed = letterbox(frame, spec.width);
    const input = new ort.Tensor("float32", toInputTensor([boxed.image], spec), [
      1,
      3,
      spec.height,
      spec.width,
    ]);
    const out = await this.#session.run({ [this.#session.inputNames[0]!]: input });
    const tensor = (name: string) => out[name]!.data as Float32Array;
    const faces = YUNET_STRIDES.flatMap((s) =>
      decodeYunetStride(
        {
          cls: tensor(`cls_${s}`),
          obj: tensor(`obj_${s}`),
          bbox: tensor(`bbox_${s}`),
          kps: tensor(`kps_${s}`),
        },
        s,
        spec.width,
        spec.height,
        this.#options.scoreThreshold,
      ),
    );
    return hardNms(faces, this.#options.nmsIouThreshold)
      .map((face) => clipToFrame(mapFaceToFrame(face, boxed.toSource), frame))
      .filter((face) => Math.max(face.box.width, face.box.height) >= this.#options.minFaceSize);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
