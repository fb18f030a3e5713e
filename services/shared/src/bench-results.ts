/**
 * Where every benchmark writes its JSON summary: `BENCH_RESULTS_DIR`, else `bench-results/` at the
 * repository root. The smoke run inside `npm test` points it elsewhere so that short runs never
 * overwrite the figures of a real `npm run bench`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export async function writeBenchSummary(name: string, summary: unknown): Promise<void> {
  // Relative to the repository root, whichever workspace the benchmark runs in.
  const dir = resolve(ROOT, process.env.BENCH_RESULTS_DIR || "bench-results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), file) || file}`);
}
