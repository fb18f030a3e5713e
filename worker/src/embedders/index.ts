// Picks the embedder named by EMBEDDER_TYPE.
import { MODELS } from "../models/manifest.ts";
import type { Embedder } from "./embedder.ts";
import { openInsightFace } from "./insightface.ts";
import { openMobileFaceNet } from "./mobilefacenet.ts";
import { openSFace } from "./sface.ts";

export const EMBEDDER_TYPES = ["insightface", "sface", "mobilefacenet"] as const;
export type EmbedderType = (typeof EMBEDDER_TYPES)[number];

const OPENERS: Record<EmbedderType, (modelsDir: string) => Promise<Embedder>> = {
  insightface: openInsightFace,
  sface: openSFace,
  mobilefacenet: openMobileFaceNet,
};

export function openEmbedder(type: EmbedderType, modelsDir: string): Promise<Embedder> {
  return OPENERS[type](modelsDir);
}

/** A licence restriction the operator must be told about at start-up, if the model has one. */
export function embedderLicenceWarning(type: EmbedderType): string | undefined {
  const entry = MODELS[type];
  return "licenceWarning" in entry ? entry.licenceWarning : undefined;
}
