/**
 * The in-browser face detector of the enrolment dialog: MediaPipe Tasks' FaceDetector (BlazeFace
 * short range) running in WebAssembly. The library, its wasm and the model load on first use only
 * (a dynamic import and files from this origin, see scripts/face-detector-assets.ts), so no other
 * page pays for them.
 */
import type { FaceDetector } from "@mediapipe/tasks-vision";
import type { BoundingBox } from "../api/types.ts";

export interface BrowserDetection {
  /** In pixels of the photo. */
  bbox: BoundingBox;
  score: number;
}

/** BlazeFace's own default; lower finds more, including faces that are not. */
const MIN_DETECTION_CONFIDENCE = 0.5;

let loading: Promise<FaceDetector> | null = null;

/** The detector, loaded once; a failure is not remembered, so opening the dialog again retries. */
export function loadFaceDetector(): Promise<FaceDetector> {
  loading ??= (async () => {
    const { FaceDetector, FilesetResolver } = await import("@mediapipe/tasks-vision");
    const fileset = await FilesetResolver.forVisionTasks(__FACE_DETECTOR_ASSETS__.wasmBase);
    return quietInfoLogs(() =>
      FaceDetector.createFromOptions(fileset, {
        baseOptions: { modelAssetPath: __FACE_DETECTOR_ASSETS__.model, delegate: "CPU" },
        runningMode: "IMAGE",
        minDetectionConfidence: MIN_DETECTION_CONFIDENCE,
      }),
    );
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** The faces in a decoded image, left to right (numbered so in the dialog, as the server lists them). */
export async function detectFaces(image: HTMLImageElement | ImageBitmap): Promise<BrowserDetection[]> {
  const detector = await loadFaceDetector();
  const { detections } = await quietInfoLogs(async () => detector.detect(image));
  return detections
    .filter((d) => d.boundingBox !== undefined)
    .map((d) => ({
      bbox: {
        x: Math.max(0, Math.round(d.boundingBox!.originX)),
        y: Math.max(0, Math.round(d.boundingBox!.originY)),
        width: Math.round(d.boundingBox!.width),
        height: Math.round(d.boundingBox!.height),
      },
      score: d.categories[0]?.score ?? 0,
    }))
    .sort((a, b) => a.bbox.x - b.bbox.x);
}

/**
 * MediaPipe's wasm writes TFLite's informational lines ("INFO: Created TensorFlow Lite XNNPACK
 * delegate for CPU.") to stderr, which lands in console.error and reads as a failure in DevTools.
 * While `run` runs (the detector starting, or detecting), lines starting "INFO: " are dropped;
 * everything else passes through.
 */
async function quietInfoLogs<T>(run: () => Promise<T>): Promise<T> {
  const error = console.error;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("INFO: ")) return;
    error(...args);
  };
  try {
    return await run();
  } finally {
    console.error = error;
  }
}

/** Why a detector failed to load, in words (MediaPipe rejects with Events or plain strings too). */
export function detectorFailure(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return "the detector's files could not be loaded";
}
