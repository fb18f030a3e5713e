// The worker's log: one line per event, human on a terminal (pino-pretty, as the stack runner shows
// the services) and JSON with ISO times otherwise, for log collectors. The services' createLogger
// (services/shared) is not importable here: the worker ships without services/shared.
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  readonly base?: Record<string, string>;
  /** Defaults to stdout; pretty when it is a terminal. */
  readonly destination?: DestinationStream & { isTTY?: boolean };
  readonly pretty?: boolean;
}

export function createLogger({
  level,
  base,
  destination = process.stdout,
  pretty: human = destination.isTTY === true,
}: LoggerOptions): Logger {
  const options = { level, base: base ?? null, timestamp: pino.stdTimeFunctions.isoTime };
  if (!human) return pino(options, destination);
  return pino(
    options,
    pretty({
      destination,
      colorize: destination.isTTY === true,
      translateTime: "SYS:HH:MM:ss",
      ignore: "pid,hostname,workerId,cameraId",
      singleLine: true,
      sync: true,
    }),
  );
}
