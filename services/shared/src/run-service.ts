/**
 * The shared `main` of every backend service: parse config, resolve the database when the service
 * has no MONGO_URL of its own (the stack runner passes one), start, and stop cleanly on SIGINT/SIGTERM.
 *
 * Under the stack runner (`npm start`, started with an IPC channel) a service also tells the runner
 * when it is ready, and stops by itself when the runner goes away, so no service outlives it.
 */
import { ConfigError } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";

interface Started {
  close(): Promise<void>;
}

/** Exit codes the stack runner acts on: neither is worth a restart. */
export const EXIT_CODES = Object.freeze({ failed: 1, config: 2, portInUse: 3 });

/**
 * What the stack runner is told over IPC once the service serves: when, by the clock of the log
 * lines, so the runner knows which lines were start-up chatter (IPC and stdout are not ordered).
 */
export interface ReadyMessage {
  readyAt: number;
}

/** The one line that says a port is taken, naming the variable that sets it. */
export function portInUseMessage(variable: string | undefined, port: number): string {
  return variable ? `${variable}=${port} is in use; set it to a free port` : `port ${port} is in use`;
}

/** The port of an "address already in use" error (Node's `listen`, or grpc-js's bind, which wraps it in text). */
export function portInUse(err: unknown): number | undefined {
  for (let e = err as { code?: string; port?: number; message?: string; cause?: unknown } | undefined; e; ) {
    if (e.code === "EADDRINUSE" && typeof e.port === "number") return e.port;
    const match = /EADDRINUSE[^\]]*:(\d+)\]?/.exec(e.message ?? "");
    if (match) return Number(match[1]);
    e = e.cause as typeof e;
  }
  return undefined;
}

export async function runService<C extends { LOG_LEVEL: string; MONGO_URL?: string | undefined }>(
  name: string,
  loadConfig: () => Readonly<C>,
  start: (config: Readonly<C>, log: Logger) => Promise<Started>,
): Promise<void> {
  let config: Readonly<C>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${name}: ${err.message}`);
    process.exit(EXIT_CODES.config);
  }
  const log = createLogger(name, config.LOG_LEVEL);
  if ("MONGO_URL" in config && !config.MONGO_URL && name !== "gateway") {
    log.fatal("MONGO_URL is required; `npm start` provides one, or set it to your MongoDB");
    process.exit(EXIT_CODES.config);
  }
  let service: Started;
  try {
    service = await start(config, log);
  } catch (err) {
    const port = portInUse(err);
    if (port === undefined) {
      log.fatal({ err }, "failed to start");
      process.exit(EXIT_CODES.failed);
    }
    const variable = Object.entries(config).find(([key, value]) => key.endsWith("_PORT") && value === port);
    log.fatal(portInUseMessage(variable?.[0], port));
    process.exit(EXIT_CODES.portInUse);
  }
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "stopping");
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await service.close().catch((err: unknown) => log.error({ err }, "error while stopping"));
    clearTimeout(force);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  if (process.send) {
    process.send({ readyAt: Date.now() } satisfies ReadyMessage, (err: Error | null) => {
      if (err) void stop("the stack runner is gone");
    });
    process.on("disconnect", () => void stop("the stack runner is gone"));
  }
}
