/**
 * `npm start`: the whole platform in the foreground on its embedded defaults. Builds the dashboard
 * when its sources changed, checks every port, starts the database and every service, prints where
 * to sign in, keeps every process alive (a crash is logged once and restarted with backoff), and
 * stops everything on Ctrl-C / SIGTERM, also during start-up or a restart.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { bootstrapPasswordFile, readBootstrapPassword } from "../bootstrap-password.ts";
import { ConfigError, DEFAULT_PORTS, logLevel, optionalString, parseConfig, port } from "../config.ts";
import { EXIT_CODES } from "../run-service.ts";
import { createStackConsole } from "./console.ts";
import { PortConflict } from "./ports.ts";
import { type RunningStack, startStack } from "./stack.ts";
import { LaunchFailed } from "./supervisor.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

const schema = z.object({
  GATEWAY_PORT: port(DEFAULT_PORTS.gateway),
  AUTH_PORT: port(DEFAULT_PORTS.auth),
  KEYS_PORT: port(DEFAULT_PORTS.keys),
  INGEST_PORT: port(DEFAULT_PORTS.ingest),
  INGEST_INTERNAL_PORT: port(DEFAULT_PORTS.ingest + 1),
  PEOPLE_PORT: port(DEFAULT_PORTS.people),
  INGEST_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  MONGO_PORT: port(DEFAULT_PORTS.mongo),
  MONGO_URL: optionalString,
  DATA_DIR: z.string().default(".data"),
  LOG_LEVEL: logLevel,
  BOOTSTRAP_ADMIN_EMAIL: z.string().default("admin@localhost"),
  BOOTSTRAP_ADMIN_PASSWORD: optionalString,
  BOOTSTRAP_TENANT_ID: z.string().default("t-default"),
});
let config: Readonly<z.infer<typeof schema>>;
try {
  config = parseConfig(schema);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`npm start: ${err.message}`);
  process.exit(EXIT_CODES.config);
}
const output = createStackConsole(config.LOG_LEVEL);
const { log } = output;
const dataDir = resolve(config.DATA_DIR);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the dashboard if it has never been built or its sources are newer than the build, while
 * the stack starts (the gateway reads web/dist per request). A failed build does not stop the API.
 */
function buildDashboardIfStale(): { done: Promise<void>; cancel(): void } {
  const web = join(ROOT, "web");
  const scripts = JSON.parse(readFileSync(join(web, "package.json"), "utf8")).scripts ?? {};
  const index = join(web, "dist", "index.html");
  const fresh = existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(web, "src"));
  if (!scripts.build || !existsSync(join(web, "src")) || fresh)
    return { done: Promise.resolve(), cancel() {} };
  log.info("building the dashboard (web/dist); this takes about half a minute");
  // Its own process group, so that cancelling stops npm, vue-tsc and vite together.
  const build = spawn("npm", ["run", "build", "-w", "@facerec/web"], { cwd: ROOT, detached: true });
  let output = "";
  for (const stream of [build.stdout, build.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk));
  const done = new Promise<void>((resolve) =>
    build.once("close", (code) => {
      if (code !== 0 && code !== null) {
        process.stderr.write(output);
        log.warn("the dashboard could not be built (output above); / serves the previous build, if any");
      }
      resolve();
    }),
  );
  return {
    done,
    cancel: () => {
      if (build.exitCode === null && build.pid) process.kill(-build.pid, "SIGTERM");
    },
  };
}

const dashboard = buildDashboardIfStale();

const abort = new AbortController();
const starting: Promise<RunningStack> = startStack({
  dataDir,
  mongoUrl: config.MONGO_URL,
  ports: {
    gateway: config.GATEWAY_PORT,
    auth: config.AUTH_PORT,
    keys: config.KEYS_PORT,
    ingest: config.INGEST_PORT,
    ingestInternal: config.INGEST_INTERNAL_PORT,
    people: config.PEOPLE_PORT,
    mongo: config.MONGO_PORT,
  },
  ...(config.INGEST_METRICS_PORT ? { extraPorts: { INGEST_METRICS_PORT: config.INGEST_METRICS_PORT } } : {}),
  env: { GATEWAY_HOST: "0.0.0.0" },
  supervise: true,
  signal: abort.signal,
  log,
  onLine: (_service, line, readyAt) => output.serviceLine(line, readyAt),
  onGiveUp: () => void shutdown(1),
});

let exiting = false;
/** Stops whatever runs (a start under way included) and exits. */
async function shutdown(code: number, reason?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  if (reason) log.info(reason);
  abort.abort();
  dashboard.cancel();
  try {
    await (await starting.catch(() => undefined))?.stop();
  } catch (err) {
    log.error({ err }, "error while stopping");
    code = 1;
  }
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => void shutdown(0, `stopping the stack (${signal})`));

let stack: RunningStack;
try {
  stack = await starting;
} catch (err) {
  if (exiting) await new Promise(() => {}); // shutdown() exits once everything has stopped
  if (err instanceof LaunchFailed && err.exit.code === EXIT_CODES.portInUse) {
    // The service printed the line naming its variable and port.
  } else if (err instanceof PortConflict || err instanceof LaunchFailed) log.fatal(err.message);
  else log.fatal({ err }, "the stack failed to start");
  dashboard.cancel();
  process.exit(1);
}

await dashboard.done;
output.stackReady();
const generatedPassword = await readBootstrapPassword(dataDir);
const password = generatedPassword
  ? `${generatedPassword}   (kept in ${bootstrapPasswordFile(dataDir)} until the first sign-in)`
  : config.BOOTSTRAP_ADMIN_PASSWORD
    ? "(the one in BOOTSTRAP_ADMIN_PASSWORD)"
    : "(shown only until the first sign-in; to start over, stop and delete DATA_DIR)";
console.log(`
  facerec is ready.
  Dashboard:        http://localhost:${stack.ports.gateway}/
  Sign in as:       ${config.BOOTSTRAP_ADMIN_EMAIL}
  Password:         ${password}
  Tenant:           ${config.BOOTSTRAP_TENANT_ID}
  REST API:         http://localhost:${stack.ports.gateway}/v1  (OpenAPI: /v1/openapi.json)
  Ingest (gRPC):    localhost:${stack.ports.ingest ?? config.INGEST_PORT}
  Database:         ${stack.database.kind === "ferretdb" ? `embedded FerretDB on 127.0.0.1:${config.MONGO_PORT}, data in ${dataDir}` : stack.database.kind}
  Stop with Ctrl-C.
`);
