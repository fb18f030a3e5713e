// Real-model tests need the model files `npm run models` prepares; these helpers say what to do
// when one is missing instead of failing obscurely.
import { existsSync } from "node:fs";
import path from "node:path";
import { WORKER_DIR } from "../config.ts";
import type { ModelEntry } from "../models/manifest.ts";

export const TEST_MODELS_DIR = path.join(WORKER_DIR, "models");

/** A skip reason when the model file is absent, for `it(name, { skip: missingModel(...) }, ...)`. */
export function missingModel(model: ModelEntry): string | false {
  return existsSync(path.join(TEST_MODELS_DIR, model.file))
    ? false
    : `${model.id} not in ${TEST_MODELS_DIR} (${model.file}); run \`npm run models\`${model.source.kind === "download" ? " with internet access" : ""}`;
}

/** Fails the test run when a registry-carried model (always obtainable) is missing. */
export function requireModel(model: ModelEntry): void {
  const reason = missingModel(model);
  if (reason) throw new Error(reason);
}
