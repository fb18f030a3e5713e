// kustomize for rendering deploy/k8s without a cluster: $KUSTOMIZE, or `kustomize` on PATH, or a
// copy built once from its Go module (Go proxy) into the same cache folder as the embedded
// FerretDB (~/.cache/facerec). The first build takes about a minute; later runs reuse it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const KUSTOMIZE_VERSION = "v5.7.1";
const MODULE = "sigs.k8s.io/kustomize/kustomize/v5";

async function works(binary: string): Promise<boolean> {
  return run(binary, ["version"], { timeout: 10_000 }).then(
    () => true,
    () => false,
  );
}

export async function kustomizeBinary(): Promise<string> {
  const fromEnv = process.env["KUSTOMIZE"];
  if (fromEnv) return fromEnv;
  if (await works("kustomize")) return "kustomize";
  const cacheRoot = process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");
  const dir = join(cacheRoot, "facerec", `kustomize-${KUSTOMIZE_VERSION}`);
  const binary = join(dir, "kustomize");
  if (existsSync(binary) && (await works(binary))) return binary;
  const go = (await works("go")) ? "go" : "/usr/local/go/bin/go";
  try {
    await run(go, ["install", `${MODULE}@${KUSTOMIZE_VERSION}`], {
      env: { ...process.env, GOBIN: dir, CGO_ENABLED: "0" },
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    throw new Error(
      `kustomize is needed to render deploy/k8s: install it (https://kubectl.docs.kubernetes.io/installation/kustomize/), ` +
        `set KUSTOMIZE to its path, or install Go so it can be built (${(err as Error).message})`,
    );
  }
  return binary;
}

export async function kustomizeBuild(binary: string, dir: string): Promise<string> {
  const { stdout } = await run(binary, ["build", dir], { maxBuffer: 64 << 20, timeout: 60_000 });
  return stdout;
}
