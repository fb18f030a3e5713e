// The worker's `.env` file, read with dotenv, plus a warning for every value that dotenv cut short.
// dotenv ends an unquoted value at the first `#`, so `VIDEO_SOURCE=/videos/a.mp4#t=10` silently
// becomes `/videos/a.mp4`. A `#` right after a value (no space before it) is almost never meant as a
// comment, so it is reported; `KEY=value # comment` is the usual comment and is not.
import { existsSync, readFileSync } from "node:fs";
import dotenv from "dotenv";

export interface EnvFile {
  readonly values: Readonly<Record<string, string>>;
  /** One line per value that was cut at `#`, saying how to keep it whole. */
  readonly warnings: readonly string[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/;

export function readEnvFile(file: string): EnvFile {
  if (!existsSync(file)) return { values: {}, warnings: [] };
  const text = readFileSync(file, "utf8");
  const warnings: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = ASSIGNMENT.exec(line);
    if (!match) continue;
    const [, key, raw = ""] = match;
    if (/^["'`]/.test(raw)) continue;
    const hash = raw.indexOf("#");
    if (hash > 0 && !/\s/.test(raw[hash - 1]!)) {
      warnings.push(
        `${file}: ${key} was cut at "#" (dotenv reads the rest of the line as a comment); ` +
          `quote the value to keep it whole: ${key}="${raw.trim()}"`,
      );
    }
  }
  return { values: dotenv.parse(text), warnings };
}
