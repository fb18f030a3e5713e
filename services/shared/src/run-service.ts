/**
 * The shared `main` of every backend service: parse config, resolve the database when the service
 * has no MONGO_URL of its own (the stack runner passes one), start, and stop cleanly on SIGINT/SIGTERM.
 */
import { ConfigError } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";

interface Started {
  close(): Promise<void>;
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
    process.exit(2);
  }
  const log = createLogger(name, config.LOG_LEVEL);
  if ("MONGO_URL" in config && !config.MONGO_URL && name !== "gateway") {
    log.fatal("MONGO_URL is required; `npm start` provides one, or set it to your MongoDB");
    process.exit(2);
  }
  let service: Started;
  try {
    service = await start(config, log);
  } catch (err) {
    log.fatal({ err }, "failed to start");
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await service.close().catch((err: unknown) => log.error({ err }, "error while stopping"));
    clearTimeout(force);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
