/**
 * The platform's default match threshold per embedding model: an observation is matched to the most
 * similar enrolled face of its tenant and model when their cosine similarity reaches it. A tenant
 * can set its own (GET/PUT /v1/settings/recognition); a model with neither is never matched, since
 * a threshold nobody measured would only produce confident mistakes.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<string, number>> = Object.freeze({
  // `npm run eval:recognition` (= eval:faces: 61 real photos of 7 people, 285 genuine and 1,545
  // impostor pairs, BlazeFace + aligner), 2026-12-06: the threshold at FAR = 1e-3 is cos ≥ 0.908 at
  // 150-px faces (TAR 100 %) and 0.905 at 70 px; the stricter of the two. dlib's cosines run high:
  // impostors averaged 0.807, genuine pairs 0.974.
  "dlib/resnet-v1-128": 0.908,
  // Same run: FAR = 1e-3 at cos ≥ 0.999 (TAR 3.5-3.9 %). The model does not tell people apart
  // (EER 33 %); the threshold makes it match almost nothing, which is the honest outcome.
  "vladmandic/mobilefacenet": 0.999,
  // Not measured here (the model could not be downloaded): OpenCV Zoo's SFace demo uses
  // cosine ≥ 0.363 (opencv_zoo models/face_recognition_sface/demo.py, `cosine_similarity_th`).
  "opencv/sface": 0.363,
});

/** Thresholds are cosines. */
export const MIN_THRESHOLD = -1;
export const MAX_THRESHOLD = 1;

/** The threshold in force for one tenant and model: its own, else the default; undefined: never match. */
export function thresholdFor(
  tenantThresholds: Readonly<Record<string, number>> | undefined,
  model: string,
  defaults: Readonly<Record<string, number>> = DEFAULT_THRESHOLDS,
): number | undefined {
  return tenantThresholds?.[model] ?? defaults[model];
}
