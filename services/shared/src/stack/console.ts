/**
 * What `npm start` prints: its own log lines and every service's, all through one pino-pretty
 * formatter (one line each, coloured on a terminal), filtered by LOG_LEVEL. A service's start-up
 * chatter below WARN counts as debug: the runner says "<service> ready" for it instead.
 */
import { pino } from "pino";
import { prettyFactory } from "pino-pretty";
import { createLogger, type Logger } from "../logger.ts";

export interface StackConsole {
  log: Logger;
  /** Prints one output line of a service, if its level passes; `readyAt` as StackOptions.onLine has it. */
  serviceLine(line: string, readyAt: number | undefined): void;
  /** From now on, lines of services that are ready are no longer start-up chatter. */
  stackReady(): void;
}

export function createStackConsole(level: string, out: NodeJS.WriteStream = process.stdout): StackConsole {
  const pretty = prettyFactory({
    colorize: Boolean(out.isTTY),
    ignore: "pid,hostname",
    translateTime: "HH:MM:ss",
    singleLine: true,
  });
  const threshold = pino.levels.values[level] ?? Number.POSITIVE_INFINITY; // "silent"
  const print = (record: object) => out.write(pretty(record));
  const log = createLogger("stack", level, { write: (json: string) => print(JSON.parse(json)) });
  let stackReady = false;
  return {
    log,
    stackReady: () => {
      stackReady = true;
    },
    serviceLine(line, readyAt) {
      if (!line.trim()) return;
      let record: { level?: unknown; time?: unknown } | undefined;
      try {
        record = JSON.parse(line);
      } catch {}
      // Not a log record (a crash's stack trace, a configuration error): always shown.
      if (typeof record?.level !== "number") {
        out.write(`${line}\n`);
        return;
      }
      const warn = pino.levels.values.warn!;
      const starting = !stackReady || readyAt === undefined || Date.parse(String(record.time)) <= readyAt;
      const effective = starting && record.level < warn ? pino.levels.values.debug! : record.level;
      if (effective >= threshold) print(record);
    },
  };
}
