/**
 * Runs the whole platform as child processes (database, keys, auth, ingest, gateway), the same way
 * for `npm start` and for integration tests. Every port is checked before anything starts; keys
 * starts first (the others follow its revocation feed), then the rest together. With `supervise`
 * (npm start) a process that crashes is restarted with backoff; without it (tests) an unexpected
 * exit is only reported through `onExit`, so a test sees it as the failure it is.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_PORTS } from "../config.ts";
import { type Database, dockerEngineAnswers, provideDatabase } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import { freePort } from "../net.ts";
import { EXIT_CODES, type ReadyMessage } from "../run-service.ts";
import { assertPortsFree } from "./ports.ts";
import {
  DEFAULT_RESTART_POLICY,
  type ExitCause,
  type Launched,
  LaunchFailed,
  type RestartPolicy,
  Supervised,
} from "./supervisor.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export const SERVICE_NAMES = ["keys", "auth", "ingest", "people", "gateway"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** Every process of the stack: the services and the embedded database. */
export type ProcessName = ServiceName | "database";

/** Start order: keys first, because every other service subscribes to its revocation feed at start. */
const START_WAVES: readonly (readonly ServiceName[])[] = [["keys"], ["auth", "ingest", "people", "gateway"]];
/** A service that has not said it is ready by then is killed and counts as failed. */
const START_TIMEOUT_MS = 60_000;

type PortName = ServiceName | "mongo" | "ingestInternal";
export const PORT_VARIABLES: Record<PortName, string> = {
  gateway: "GATEWAY_PORT",
  auth: "AUTH_PORT",
  keys: "KEYS_PORT",
  ingest: "INGEST_PORT",
  ingestInternal: "INGEST_INTERNAL_PORT",
  people: "PEOPLE_PORT",
  mongo: "MONGO_PORT",
};
const entryOf = (name: ServiceName) => `${ROOT}services/${name}/src/main.ts`;

export interface StackOptions {
  /** Fixed ports (npm start) or free ones (tests, the default; 0 also means a free one). */
  ports?: Partial<Record<PortName, number>>;
  /** Further ports the services will bind, by variable (e.g. INGEST_METRICS_PORT), checked with the rest. */
  extraPorts?: Record<string, number>;
  dataDir: string;
  mongoUrl?: string | undefined;
  mongoDb?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /**
   * Receives each output line of each service, with the time (epoch ms, the service's clock) at which
   * that process became ready, once it has: lines logged up to then are its start-up.
   */
  onLine?: (service: ServiceName, line: string, readyAt: number | undefined) => void;
  /** Keep every output line in `output` (tests assert on it); benchmarks turn it off. Default true. */
  keepOutput?: boolean;
  /** Called when a process exits without being asked to (before any restart). */
  onExit?: (process: ProcessName, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Restart processes that crash (npm start); `true` uses the default policy. Default off. */
  supervise?: boolean | RestartPolicy;
  /** Supervision gave up on a process (its port was taken meanwhile): the caller should stop the stack. */
  onGiveUp?: (process: ProcessName, cause: ExitCause) => void;
  /** Stops a start under way (Ctrl-C during start-up): whatever was started is stopped, startStack rejects. */
  signal?: AbortSignal;
  log?: Logger;
}

export interface RunningStack {
  gatewayUrl: string;
  ports: Record<ServiceName, number>;
  database: Database;
  services: ServiceName[];
  /** Every line every service printed, for assertions. */
  output: string[];
  /** The process id of a running process (for memory measurements and crash tests). */
  pid(name: ProcessName): number | undefined;
  /** Sends SIGKILL to a service on purpose (an outage a test controls): it is not restarted. */
  kill(name: ServiceName): Promise<void>;
  start(name: ServiceName): Promise<void>;
  waitUntilReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess, event: "exit" | "close"): Promise<ExitCause> {
  if (event === "exit" && (child.exitCode !== null || child.signalCode !== null))
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) =>
    child.once(event, (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
  );
}

/**
 * The development pepper for API keys, in the file and format the keys service itself falls back
 * to, made here so that a first `npm start` has nothing to warn about (production sets API_KEY_PEPPER).
 */
async function provideDevelopmentPepper(dataDir: string): Promise<void> {
  await mkdir(join(dataDir, "secrets"), { recursive: true });
  await writeFile(join(dataDir, "secrets", "api-key-pepper"), randomBytes(32).toString("base64"), {
    mode: 0o600,
    flag: "wx",
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const services = SERVICE_NAMES.filter((name) => existsSync(entryOf(name)));
  // A port just closed can be handed out again at once: free ones are drawn until each is new, and
  // none is one the caller gave (a test's metrics port among the environment's *_PORT).
  const taken = new Set([
    ...Object.values(opts.ports ?? {}),
    ...Object.values(opts.extraPorts ?? {}),
    ...Object.entries(opts.env ?? {})
      .filter(([name]) => name.endsWith("_PORT"))
      .map(([, value]) => Number(value)),
  ]);
  const pick = async (name: PortName) => {
    if (opts.ports?.[name]) return opts.ports[name];
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  const ports = {} as Record<ServiceName, number>;
  for (const name of services) ports[name] = await pick(name);
  const ingestInternalPort = await pick("ingestInternal");
  const embeddedDatabase = !opts.mongoUrl && !(await dockerEngineAnswers());
  const mongoPort = embeddedDatabase ? await pick("mongo") : 0;
  await assertPortsFree({
    ...Object.fromEntries(services.map((name) => [PORT_VARIABLES[name], ports[name]])),
    [PORT_VARIABLES.ingestInternal]: ingestInternalPort,
    ...(embeddedDatabase ? { [PORT_VARIABLES.mongo]: mongoPort } : {}),
    ...opts.extraPorts,
  });
  const given = { ...process.env, ...opts.env };
  if (!given.API_KEY_PEPPER && !given.API_KEY_PEPPER_FILE) await provideDevelopmentPepper(opts.dataDir);

  const log = opts.log;
  const output: string[] = [];
  const policy = opts.supervise === true ? DEFAULT_RESTART_POLICY : opts.supervise || undefined;
  let env: Record<string, string> = {};
  let database: Database | undefined;

  const launchDatabase = async (): Promise<Launched> => {
    if (database?.restart) await database.restart();
    else
      database = await provideDatabase({
        mongoUrl: opts.mongoUrl,
        dataDir: opts.dataDir,
        port: mongoPort,
        ...(log ? { log } : {}),
      });
    const db = database;
    const child = db.process;
    // An external database is not ours to watch: it never "exits" here.
    const exited = child ? exitOf(child, "exit") : new Promise<ExitCause>(() => {});
    return {
      pid: child?.pid,
      exited,
      stop: () => db.stop(),
      kill: async () => {
        child?.kill("SIGKILL");
        await exited;
      },
    };
  };

  const launchService = (name: ServiceName) => (): Promise<Launched> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [entryOf(name)], {
        env,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        cwd: ROOT,
        // Its own process group: Ctrl-C reaches the runner only, which stops the services in order.
        // A service notices when the runner is gone (its IPC channel closes) and stops by itself.
        detached: true,
      });
      let readyAt: number | undefined;
      const emit = (line: string) => {
        if (opts.keepOutput !== false) output.push(line);
        opts.onLine?.(name, line, readyAt);
      };
      for (const stream of [child.stdout, child.stderr]) {
        let partial = "";
        stream?.on("data", (chunk: Buffer) => {
          const lines = (partial + chunk.toString()).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) emit(line);
        });
        stream?.on("end", () => partial && emit(partial));
      }
      child.on("error", () => {}); // a spawn failure also ends in "close", handled below
      const exited = exitOf(child, "close");
      const stopWith = async (signal: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(force);
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, START_TIMEOUT_MS);
      child.on("message", (message: Partial<ReadyMessage>) => {
        if (typeof message?.readyAt !== "number" || readyAt !== undefined) return;
        readyAt = message.readyAt;
        clearTimeout(timer);
        resolve({
          pid: child.pid,
          exited,
          stop: () => stopWith("SIGTERM"),
          kill: () => stopWith("SIGKILL"),
        });
      });
      void exited.then((cause) => {
        clearTimeout(timer);
        if (readyAt !== undefined) return;
        const detail = timedOut ? `${name} was not ready within ${START_TIMEOUT_MS / 1000} s` : undefined;
        reject(new LaunchFailed(name, cause, detail));
      });
    });

  const supervise = (name: ProcessName, launch: () => Promise<Launched>) =>
    new Supervised({
      name,
      launch,
      restart: policy !== undefined,
      ...(policy ? { policy } : {}),
      log,
      onExit: (cause) => opts.onExit?.(name, cause.code, cause.signal),
      restartable: (cause) => cause.code !== EXIT_CODES.portInUse && cause.code !== EXIT_CODES.config,
      onGiveUp: (cause) => opts.onGiveUp?.(name, cause),
      onRestarted: (_launched, ms) =>
        log?.info(`${name} ready again, ${(ms / 1000).toFixed(1)} s after it stopped`),
    });
  const databaseUnit = supervise("database", launchDatabase);
  const units = new Map<ServiceName, Supervised>(
    services.map((name) => [name, supervise(name, launchService(name))]),
  );
  const waves = START_WAVES.map((wave) => wave.filter((name) => units.has(name)));

  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  const waitUntilReady = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (opts.signal?.aborted) throw new Error("stopped while starting");
      if (Date.now() > deadline)
        throw new Error(`stack not ready after ${timeoutMs} ms:\n${output.slice(-30).join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      // Reverse start order: the edge first, the database last.
      for (const wave of [...waves].reverse()) await Promise.all(wave.map((name) => units.get(name)!.stop()));
      await databaseUnit.stop();
    })();
    return stopped;
  };
  opts.signal?.addEventListener("abort", () => void stop(), { once: true });

  try {
    await databaseUnit.start();
    const url = database!.url;
    if (database!.kind === "ferretdb")
      log?.info(`database ready on 127.0.0.1:${mongoPort} (embedded FerretDB)`);
    env = {
      ...(process.env as Record<string, string>),
      MONGO_URL: url,
      MONGO_DB: opts.mongoDb ?? "facerec",
      DATA_DIR: opts.dataDir,
      KEYS_ADDR: `127.0.0.1:${ports.keys}`,
      AUTH_ADDR: `127.0.0.1:${ports.auth}`,
      PEOPLE_ADDR: `127.0.0.1:${ports.people}`,
      ...Object.fromEntries(services.map((name) => [PORT_VARIABLES[name], String(ports[name])])),
      INGEST_PORT: String(ports.ingest ?? DEFAULT_PORTS.ingest),
      // The ingest's internal query API (for the gateway) has a port of its own.
      INGEST_INTERNAL_PORT: String(ingestInternalPort),
      INGEST_ADDR: `127.0.0.1:${ingestInternalPort}`,
      // Node's on-disk compile cache: a restarted service starts in about half the time.
      NODE_COMPILE_CACHE:
        process.env.NODE_COMPILE_CACHE ??
        join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "facerec", "node-compile-cache"),
      ...opts.env,
    };
    for (const wave of waves) {
      await Promise.all(
        wave.map(async (name) => {
          await units.get(name)!.start();
          log?.info(`${name} ready on port ${ports[name]}`);
        }),
      );
    }
    await waitUntilReady();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    gatewayUrl,
    ports,
    database: database!,
    services,
    output,
    pid: (name) => (name === "database" ? databaseUnit.pid : units.get(name)?.pid),
    kill: (name) => units.get(name)!.kill(),
    start: (name) => units.get(name)!.start(),
    waitUntilReady,
    stop,
  };
}
