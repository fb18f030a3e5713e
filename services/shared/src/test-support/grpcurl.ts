/**
 * The real grpcurl, as integrators run it: built once with `go install` from the Go module proxy
 * into ~/.cache/facerec/bin (the version pinned here), then run against the stack's ports.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const GRPCURL_VERSION = "v1.9.3";
const BIN_DIR = join(homedir(), ".cache", "facerec", "bin");
const binary = join(BIN_DIR, `grpcurl-${GRPCURL_VERSION}`);

/** Path of the grpcurl binary, building it first when the cache lacks it (a few minutes, once). */
export async function grpcurlBinary(): Promise<string> {
  if (existsSync(binary)) return binary;
  const gobin = await mkdtemp(join(tmpdir(), "grpcurl-"));
  try {
    await run("go", ["install", `github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}`], {
      timeout: 15 * 60_000,
      env: {
        ...process.env,
        GOBIN: gobin,
        GOTOOLCHAIN: "auto",
        PATH: ["/usr/local/go/bin", process.env.PATH ?? ""].join(delimiter),
      },
    });
    await mkdir(BIN_DIR, { recursive: true });
    await rename(join(gobin, "grpcurl"), binary);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
  return binary;
}

/** Runs grpcurl with `args`, feeding `input` on stdin; resolves with stdout, rejects with its stderr. */
export async function grpcurl(args: string[], input?: string): Promise<string> {
  const bin = await grpcurlBinary();
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`grpcurl ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    );
    // grpcurl reads stdin only with `-d @`; otherwise it may exit before the pipe is written (EPIPE).
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}
