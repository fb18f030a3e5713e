// InsightFace ArcFace w600k_r50 (buffalo_l): 112x112 NCHW RGB, (x - 127.5) / 127.5, 512-d out.
// Its weights are for non-commercial research only; opening it returns the warning to log.
import { MODELS } from "../models/manifest.ts";
import { OnnxEmbedder } from "./onnx-embedder.ts";

export const INSIGHTFACE_DIM = 512;

export function openInsightFace(modelsDir: string): Promise<OnnxEmbedder> {
  return OnnxEmbedder.open(modelsDir, MODELS.insightface, INSIGHTFACE_DIM);
}
