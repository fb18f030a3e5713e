import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log record. pino censors them before serialisation,
 * so a careless `log.info({ body })` cannot leak an API key, password or token.
 */
const SECRET_PATHS = [
  "password",
  "apiKey",
  "api_key",
  "key",
  "token",
  "accessToken",
  "refreshToken",
  "authorization",
  "cookie",
  "adminPassword",
].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/** A pino logger that writes JSON lines to stdout, or to `destination` (the stack runner's pretty console). */
export function createLogger(service: string, level = "info", destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    redact: {
      paths: [...SECRET_PATHS, "req.headers.authorization", "req.headers.cookie"],
      censor: "[redacted]",
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
