/**
 * README.md's tables of failure codes, made from the table in proto/failure-codes.ts: each sits
 * between `<!-- failure-codes:<name> -->` and `<!-- /failure-codes -->`. `--write` rewrites them;
 * failure-codes.test.ts fails while they differ from the table.
 *
 *   npx node services/shared/src/failure-codes-readme.ts --write
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FAILURE_CODES, type FailureCode, type FailureCodeEntry } from "@facerec/proto/failure-codes.ts";

export const README_PATH = join(import.meta.dirname, "../../../README.md");

const entries = Object.entries(FAILURE_CODES) as [FailureCode, FailureCodeEntry][];

/** The 401 causes of a token exchange: the worker guide's four, then the address limit. */
const KEY_REFUSALS: readonly FailureCode[] = [
  "invalid_api_key",
  "key_inactive",
  "key_expired",
  "tenant_mismatch",
  "ip_not_allowed",
];

const INGEST = { stream: "ends the stream", ack: "`IngestAck.reason`" } as const;

/** Each generated table by its marker name. */
const TABLES: Record<string, () => string[][]> = {
  "token-exchange": () => [
    ["`code`", "cause", "fix"],
    ...KEY_REFUSALS.map((code) => [`\`${code}\``, FAILURE_CODES[code].meaning, FAILURE_CODES[code].fix]),
  ],
  "ingest-ack": () => [
    ["ack `reason`", "cause", "fix"],
    ...entries.filter(([, e]) => e.ingest === "ack").map(([code, e]) => [`\`${code}\``, e.meaning, e.fix]),
  ],
  all: () => [
    ["`code`", "HTTP", "gRPC ingest", "meaning", "fix"],
    ...entries.map(([code, e]) => [
      `\`${code}\``,
      e.http ? String(e.http) : "—",
      e.ingest ? INGEST[e.ingest] : "—",
      e.meaning,
      e.fix,
    ]),
  ],
};

/** A Markdown table with padded columns; `|` inside a cell is escaped. */
function markdownTable(rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell) => cell.replaceAll("|", "\\|")));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => [...row[i]!].length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => cell + " ".repeat(widths[i]! - [...cell].length)).join(" | ")} |`;
  return [line(cells[0]!), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

const REGION = /(<!-- failure-codes:([a-z-]+) -->\n)(?:[\s\S]*?\n)??(<!-- \/failure-codes -->)/g;

/** The README with every generated table rewritten from the table; throws on an unknown marker name. */
export function renderReadme(readme: string): string {
  return readme.replace(REGION, (_, open: string, name: string, close: string) => {
    const table = TABLES[name];
    if (!table) throw new Error(`README.md: no failure-code table is named ${name}`);
    return `${open}${markdownTable(table())}\n${close}`;
  });
}

/** The names of the generated tables the README holds. */
export function readmeTables(readme: string): string[] {
  return [...readme.matchAll(REGION)].map((m) => m[2]!);
}

if (import.meta.main && process.argv.includes("--write")) {
  const readme = readFileSync(README_PATH, "utf8");
  writeFileSync(README_PATH, renderReadme(readme));
  console.log(`README.md: failure-code tables ${readmeTables(readme).join(", ")} rewritten`);
}
