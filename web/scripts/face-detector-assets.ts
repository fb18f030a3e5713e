/**
 * The in-browser face detector's files, served from the dashboard's own origin (no CDN, no model
 * hub): MediaPipe Tasks' wasm runtime copied from @mediapipe/tasks-vision, and the BlazeFace
 * short-range model from @mediapipe/face_detection with the TFLite metadata that Tasks needs
 * written in at build time (scripts/tflite-metadata.ts). A Vite plugin emits them under
 * `assets/face-detector/` (the gateway serves `/assets/` with long-lived caching, so each path
 * carries the package version) and serves them in `vite dev`; the app learns the paths through
 * `__FACE_DETECTOR_ASSETS__`. Nothing is loaded until the enrolment dialog asks for it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Plugin } from "vite";
import { buildImageModelMetadata, withTfliteMetadata } from "./tflite-metadata.ts";

const require = createRequire(import.meta.url);
// Both packages keep their main script at the package root (tasks-vision does not export package.json).
const packageDir = (name: string) => dirname(require.resolve(name));
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(packageDir(name), "package.json"), "utf8")) as { version: string }).version;

/** Where the app finds the detector (paths from the site root). */
export interface FaceDetectorAssetPaths {
  /** The folder FilesetResolver.forVisionTasks() is given (it picks the SIMD build or not). */
  wasmBase: string;
  model: string;
}

/** BlazeFace short range (128×128 RGB in, [-1, 1]): as MediaPipe's own face detector graph expects. */
export function blazeFaceWithMetadata(): Uint8Array {
  const model = readFileSync(
    join(packageDir("@mediapipe/face_detection"), "face_detection_short_range.tflite"),
  );
  const metadata = buildImageModelMetadata({
    name: "BlazeFace (short range)",
    description: "Detects faces within about 2 m of the camera, with six keypoints each.",
    version: versionOf("@mediapipe/face_detection"),
    license: "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.",
    input: {
      name: "image",
      description: "An RGB image, resized to 128×128 and scaled to [-1, 1].",
      width: 128,
      height: 128,
      mean: [127.5],
      std: [127.5],
    },
    outputs: [
      { name: "regressors", description: "Box and keypoint offsets per anchor (896 × 16)." },
      { name: "classificators", description: "Face score logit per anchor (896 × 1)." },
    ],
  });
  return withTfliteMetadata(model, metadata);
}

const WASM_FILES = [
  "vision_wasm_internal.js",
  "vision_wasm_internal.wasm",
  "vision_wasm_nosimd_internal.js",
  "vision_wasm_nosimd_internal.wasm",
];

/** Each file's path under the output folder, and its bytes (read when first asked for). */
function assetFiles(): { paths: FaceDetectorAssetPaths; files: Map<string, () => Uint8Array> } {
  const wasmDir = `assets/face-detector/tasks-vision-${versionOf("@mediapipe/tasks-vision")}`;
  const model = blazeFaceWithMetadata();
  const modelFile = `assets/face-detector/blaze-face-short-range-${createHash("sha256").update(model).digest("hex").slice(0, 12)}.tflite`;
  const files = new Map<string, () => Uint8Array>([[modelFile, () => model]]);
  const wasmSource = join(packageDir("@mediapipe/tasks-vision"), "wasm");
  for (const name of WASM_FILES) files.set(`${wasmDir}/${name}`, () => readFileSync(join(wasmSource, name)));
  return { paths: { wasmBase: `/${wasmDir}`, model: `/${modelFile}` }, files };
}

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".tflite": "application/octet-stream",
};

export function faceDetectorAssets(): Plugin {
  const { paths, files } = assetFiles();
  return {
    name: "facerec-face-detector-assets",
    config: () => ({ define: { __FACE_DETECTOR_ASSETS__: JSON.stringify(paths) } }),
    generateBundle() {
      for (const [fileName, read] of files) this.emitFile({ type: "asset", fileName, source: read() });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const read = files.get((req.url ?? "").split("?")[0]!.slice(1));
        if (!read) return next();
        const ext = req.url!.slice(req.url!.lastIndexOf("."));
        res.setHeader("Content-Type", CONTENT_TYPES[ext] ?? "application/octet-stream");
        res.end(read());
      });
    },
  };
}
