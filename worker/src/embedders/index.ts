// Picks the embedder named by EMBEDDER_TYPE. Every embedder is one manifest entry run by
// OnnxEmbedder: the entry holds its embedding size, crop and input preprocessing.
import { type EmbedderEntry, MODELS } from "../models/manifest.ts";
import type { Embedder } from "./embedder.ts";
import { OnnxEmbedder } from "./onnx-embedder.ts";

/** `dlib` first: the default (README has the evaluation behind that). */
export const EMBEDDER_TYPES = ["dlib", "insightface", "sface", "mobilefacenet"] as const;
export type EmbedderType = (typeof EMBEDDER_TYPES)[number];
export const DEFAULT_EMBEDDER_TYPE: EmbedderType = "dlib";

export function embedderEntry(type: EmbedderType): EmbedderEntry {
  return MODELS[type];
}

export function openEmbedder(type: EmbedderType, modelsDir: string): Promise<Embedder> {
  return OnnxEmbedder.open(modelsDir, embedderEntry(type));
}

/** What the operator must be told at start-up about the model (licence, unfitness), if anything. */
export function embedderWarnings(type: EmbedderType): string[] {
  const entry = embedderEntry(type);
  return [entry.licenceWarning, entry.notForRecognition].filter((w): w is string => w !== undefined);
}
