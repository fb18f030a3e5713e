/**
 * The embedded database: FerretDB 1.24 (MongoDB wire protocol over SQLite), built once from its Go
 * module into a cache folder and started on loopback with its data under DATA_DIR.
 *
 * `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` compiles but the binary panics at
 * start: FerretDB's release tooling writes build/version/version.txt, which the module zip lacks.
 * So we build the same package from the proxy-verified module source with that one file added.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, chmod, cp, mkdir, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Logger } from "../logger.ts";

const run = promisify(execFile);
export const FERRETDB_VERSION = "v1.24.2";
const MODULE = "github.com/FerretDB/FerretDB";

export function ferretDbBinaryPath(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(cache, "facerec", `ferretdb-${FERRETDB_VERSION}`, "ferretdb");
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Returns the FerretDB binary, building it with the Go toolchain on first use. */
export async function ensureFerretDbBinary(log?: Logger): Promise<string> {
  const binary = ferretDbBinaryPath();
  if (await exists(binary)) return binary;
  try {
    await run("go", ["version"]);
  } catch {
    throw new Error(
      "No database available: MONGO_URL is unset, no Docker engine answers, and the embedded FerretDB " +
        `is not built (${binary}) and cannot be, because the Go toolchain is missing. ` +
        "Set MONGO_URL to a MongoDB 7+ server, start Docker, or install Go (https://go.dev/dl) and retry.",
    );
  }
  log?.info(
    { binary },
    `building the embedded database (FerretDB ${FERRETDB_VERSION}) once; this takes a minute or two`,
  );
  const { stdout } = await run("go", ["mod", "download", "-json", `${MODULE}@${FERRETDB_VERSION}`], {
    maxBuffer: 1 << 20,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const work = join(tmpdir(), `ferretdb-build-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await cp(moduleDir, work, { recursive: true });
  await chmod(join(work, "build", "version"), 0o755);
  await writeFile(join(work, "build", "version", "version.txt"), `${FERRETDB_VERSION}\n`);
  await mkdir(join(binary, ".."), { recursive: true });
  await run("go", ["build", "-o", binary, "./cmd/ferretdb"], { cwd: work, maxBuffer: 16 << 20 });
  await rm(work, { recursive: true, force: true });
  return binary;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export interface RunningFerretDb {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts FerretDB on 127.0.0.1:port with its SQLite files under dataDir; resolves once it accepts connections. */
export async function startFerretDb(opts: {
  dataDir: string;
  port: number;
  log?: Logger;
}): Promise<RunningFerretDb> {
  const binary = await ensureFerretDbBinary(opts.log);
  if (await portAnswers(opts.port)) {
    throw new Error(
      `port ${opts.port} is already in use; set MONGO_PORT to a free port or MONGO_URL to a running MongoDB`,
    );
  }
  const sqliteDir = join(opts.dataDir, "ferretdb");
  await mkdir(sqliteDir, { recursive: true });
  const child = spawn(
    binary,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${sqliteDir}/`,
      `--state-dir=${sqliteDir}`,
      `--listen-addr=127.0.0.1:${opts.port}`,
      "--debug-addr=-",
      "--telemetry=disable",
      "--log-level=warn",
      "--log-format=json",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(opts.port))) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`FerretDB did not accept connections on port ${opts.port} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mongodb://127.0.0.1:${opts.port}/`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// `node services/shared/src/db/ferretdb.ts` builds the binary ahead of time (used by .ci/run).
if (import.meta.main) {
  console.log(await ensureFerretDbBinary());
}
