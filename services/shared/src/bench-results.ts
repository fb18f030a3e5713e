/**
 * What every benchmark shares: where its JSON summary goes (`BENCH_RESULTS_DIR`, else
 * `bench-results/` at the repository root; the smoke run inside `npm test` points it elsewhere so
 * short runs never overwrite the figures of a real `npm run bench`), and how it states a verdict.
 *
 * The smoke run (`npm run test:bench`, BENCH_SMOKE=1) only proves that each benchmark command works:
 * its 1-second measurements on a machine busy with the test suite are not figures, so it says so
 * and states no verdicts.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const SMOKE_RUN = process.env.BENCH_SMOKE === "1";

if (SMOKE_RUN)
  console.log(
    "smoke run: short measurements on a busy machine; figures not meaningful and no verdicts (`npm run bench` measures)",
  );

/** "met" / "NOT met" against a target, or nothing in the smoke run. */
export function verdict(met: boolean): string {
  if (SMOKE_RUN) return "smoke run, no verdict";
  return met ? "met" : "NOT met";
}

export async function writeBenchSummary(name: string, summary: Record<string, unknown>): Promise<void> {
  // Relative to the repository root, whichever workspace the benchmark runs in.
  const dir = resolve(ROOT, process.env.BENCH_RESULTS_DIR || "bench-results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify({ ...summary, smokeRun: SMOKE_RUN }, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), file) || file}`);
}
