// OpenCV Zoo SFace (face_recognition_sface_2021dec.onnx): 112x112 NCHW RGB 0-255, 128-d out, the
// same aligned crop OpenCV's FaceRecognizerSF makes from YuNet's landmarks.
import { MODELS } from "../models/manifest.ts";
import { OnnxEmbedder } from "./onnx-embedder.ts";

export const SFACE_DIM = 128;

export function openSFace(modelsDir: string): Promise<OnnxEmbedder> {
  return OnnxEmbedder.open(modelsDir, MODELS.sface, SFACE_DIM);
}
