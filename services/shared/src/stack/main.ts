/**
 * `npm start`: the whole platform in the foreground on its embedded defaults. Builds the dashboard
 * when its sources changed, starts the database and every service, prints where to sign in, and
 * stops everything on Ctrl-C / SIGTERM. A service that dies takes the stack down loudly: nothing
 * is restarted silently.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prettyFactory } from "pino-pretty";
import { z } from "zod";
import { DEFAULT_PORTS, optionalString, parseConfig, port } from "../config.ts";
import { createLogger } from "../logger.ts";
import { type ServiceName, startStack } from "./stack.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

const config = parseConfig(
  z.object({
    GATEWAY_PORT: port(DEFAULT_PORTS.gateway),
    AUTH_PORT: port(DEFAULT_PORTS.auth),
    KEYS_PORT: port(DEFAULT_PORTS.keys),
    INGEST_PORT: port(DEFAULT_PORTS.ingest),
    INGEST_INTERNAL_PORT: port(DEFAULT_PORTS.ingest + 1),
    MONGO_PORT: port(DEFAULT_PORTS.mongo),
    MONGO_URL: optionalString,
    DATA_DIR: z.string().default(".data"),
    BOOTSTRAP_ADMIN_EMAIL: z.string().default("admin@localhost"),
    BOOTSTRAP_ADMIN_PASSWORD: optionalString,
    BOOTSTRAP_TENANT_ID: z.string().default("t-default"),
  }),
);
const log = createLogger("stack");
const pretty = prettyFactory({
  colorize: process.stdout.isTTY,
  ignore: "pid,hostname",
  translateTime: "HH:MM:ss",
  singleLine: true,
});

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the dashboard if it has never been built or its sources are newer than the build. */
function buildDashboardIfStale(): void {
  const web = join(ROOT, "web");
  const scripts = JSON.parse(readFileSync(join(web, "package.json"), "utf8")).scripts ?? {};
  if (!scripts.build || !existsSync(join(web, "src"))) return;
  const index = join(web, "dist", "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(web, "src"))) return;
  log.info("building the dashboard (web/dist)");
  execFileSync("npm", ["run", "build", "-w", "@facerec/web"], { cwd: ROOT, stdio: "inherit" });
}

buildDashboardIfStale();

let generatedPassword: string | undefined;
const stack = await startStack({
  dataDir: resolve(config.DATA_DIR),
  mongoUrl: config.MONGO_URL,
  ports: {
    gateway: config.GATEWAY_PORT,
    auth: config.AUTH_PORT,
    keys: config.KEYS_PORT,
    ingest: config.INGEST_PORT,
    ingestInternal: config.INGEST_INTERNAL_PORT,
    mongo: config.MONGO_PORT,
  },
  env: { GATEWAY_HOST: "0.0.0.0" },
  log,
  onLine: (_service: ServiceName, line: string) => {
    try {
      const record = JSON.parse(line) as { generatedPassword?: string };
      if (record.generatedPassword) generatedPassword = record.generatedPassword;
      process.stdout.write(pretty(record));
    } catch {
      process.stdout.write(`${line}\n`);
    }
  },
  onExit: (service, code) => {
    log.fatal({ service, code }, "a service exited unexpectedly; stopping the stack");
    void stack.stop().finally(() => process.exit(1));
  },
});

const password =
  config.BOOTSTRAP_ADMIN_PASSWORD ??
  generatedPassword ??
  "(generated and printed at the first start; reset by deleting DATA_DIR)";
console.log(`
  facerec is ready.
  Dashboard:        http://localhost:${stack.ports.gateway}/
  Sign in as:       ${config.BOOTSTRAP_ADMIN_EMAIL}
  Password:         ${password}
  Tenant:           ${config.BOOTSTRAP_TENANT_ID}
  REST API:         http://localhost:${stack.ports.gateway}/v1  (OpenAPI: /v1/openapi.json)
  Ingest (gRPC):    localhost:${stack.ports.ingest ?? config.INGEST_PORT}
  Database:         ${stack.database.kind === "ferretdb" ? `embedded FerretDB on 127.0.0.1:${config.MONGO_PORT}, data in ${resolve(config.DATA_DIR)}` : stack.database.kind}
  Stop with Ctrl-C.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping the stack");
    stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  });
}
