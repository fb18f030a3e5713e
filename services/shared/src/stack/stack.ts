/**
 * Runs the whole platform as child processes (database, keys, auth, ingest, gateway), the same way
 * for `npm start` and for integration tests. Nothing is restarted silently: an unexpected exit is
 * reported through `onExit` and the caller decides (npm start stops everything; tests fail).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_PORTS } from "../config.ts";
import { type Database, provideDatabase } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import { freePort } from "../net.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export const SERVICE_NAMES = ["keys", "auth", "ingest", "people", "gateway"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const PORT_ENV: Record<ServiceName, string> = {
  keys: "KEYS_PORT",
  auth: "AUTH_PORT",
  ingest: "INGEST_PORT",
  people: "PEOPLE_PORT",
  gateway: "GATEWAY_PORT",
};
const entryOf = (name: ServiceName) => `${ROOT}services/${name}/src/main.ts`;

export interface StackOptions {
  /** Fixed ports (npm start) or free ones (tests, the default). */
  ports?: Partial<Record<ServiceName | "mongo" | "ingestInternal", number>>;
  dataDir: string;
  mongoUrl?: string | undefined;
  mongoDb?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Receives each output line of each service. */
  onLine?: (service: ServiceName, line: string) => void;
  /** Keep every output line in `output` (tests assert on it); benchmarks turn it off. Default true. */
  keepOutput?: boolean;
  /** Called when a service exits without being asked to. */
  onExit?: (service: ServiceName, code: number | null) => void;
  log?: Logger;
}

export interface RunningStack {
  gatewayUrl: string;
  ports: Record<ServiceName, number>;
  database: Database;
  services: ServiceName[];
  /** Every line every service printed, for assertions. */
  output: string[];
  /** The process id of a running service (for memory measurements). */
  pid(name: ServiceName): number | undefined;
  /** Sends SIGKILL to a service (a crash, not a shutdown). */
  kill(name: ServiceName): Promise<void>;
  start(name: ServiceName): Promise<void>;
  waitUntilReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const services = SERVICE_NAMES.filter((name) => existsSync(entryOf(name)));
  const ports = {} as Record<ServiceName, number>;
  for (const name of services) ports[name] = opts.ports?.[name] ?? (await freePort());
  const ingestInternalPort = opts.ports?.ingestInternal ?? (await freePort());
  const database = await provideDatabase({
    mongoUrl: opts.mongoUrl,
    dataDir: opts.dataDir,
    port: opts.ports?.mongo ?? (await freePort()),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MONGO_URL: database.url,
    MONGO_DB: opts.mongoDb ?? "facerec",
    DATA_DIR: opts.dataDir,
    KEYS_ADDR: `127.0.0.1:${ports.keys}`,
    AUTH_ADDR: `127.0.0.1:${ports.auth}`,
    PEOPLE_ADDR: `127.0.0.1:${ports.people}`,
    ...Object.fromEntries(services.map((name) => [PORT_ENV[name], String(ports[name])])),
    INGEST_PORT: String(ports.ingest ?? DEFAULT_PORTS.ingest),
    // The ingest's internal query API (for the gateway) has a port of its own.
    INGEST_INTERNAL_PORT: String(ingestInternalPort),
    INGEST_ADDR: `127.0.0.1:${ingestInternalPort}`,
    ...opts.env,
  };

  const output: string[] = [];
  const children = new Map<ServiceName, ChildProcess>();
  const exits = new Map<ServiceName, Promise<void>>();
  let stopping = false;

  const start = async (name: ServiceName) => {
    const child = spawn(process.execPath, [entryOf(name)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      cwd: ROOT,
    });
    children.set(name, child);
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (opts.keepOutput !== false) output.push(line);
          opts.onLine?.(name, line);
        }
      });
    }
    exits.set(
      name,
      new Promise((resolve) =>
        child.once("exit", (code) => {
          if (children.get(name) === child) children.delete(name);
          if (!stopping && !child.killed) opts.onExit?.(name, code);
          resolve();
        }),
      ),
    );
  };

  const stopChild = async (name: ServiceName, signal: NodeJS.Signals) => {
    const child = children.get(name);
    if (!child) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exits.get(name);
    clearTimeout(timer);
  };

  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  const waitUntilReady = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`stack not ready after ${timeoutMs} ms:\n${output.slice(-30).join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async () => {
    stopping = true;
    // Reverse start order: the edge first, the database last.
    for (const name of [...services].reverse()) await stopChild(name, "SIGTERM");
    await database.stop();
  };

  try {
    for (const name of services) await start(name);
    await waitUntilReady();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    gatewayUrl,
    ports,
    database,
    services,
    output,
    pid: (name) => children.get(name)?.pid,
    kill: (name) => stopChild(name, "SIGKILL"),
    start,
    waitUntilReady,
    stop,
  };
}
