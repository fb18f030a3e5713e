/**
 * Initial-JavaScript budget: the entry chunk plus every chunk it imports statically
 * (per Vite's manifest), gzipped, must stay under 250 KB. Route pages are lazy chunks
 * and not part of it; the figure for the API Keys page (entry + layout + page, what a
 * signed-in admin downloads before the page works) is printed too, for information.
 *
 * Run after `npm run build`: `npm run size`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 250 * 1000;
const dist = join(import.meta.dirname, "..", "dist");

interface ManifestChunk {
  file: string;
  name?: string;
  isEntry?: boolean;
  imports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

let manifest: Manifest;
try {
  manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8")) as Manifest;
} catch {
  console.error("No build manifest in web/dist/.vite: run `npm run build` first.");
  process.exit(2);
}

/** The chunks named and everything they import statically, each once. */
function withStaticImports(keys: string[]): string[] {
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const imported of manifest[key]?.imports ?? []) visit(imported);
  };
  keys.forEach(visit);
  return [...seen].map((key) => manifest[key]!.file).filter((file) => file.endsWith(".js"));
}

const gzipped = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

function report(title: string, files: string[]): number {
  const sizes = files.map((file) => ({ file, bytes: gzipped(file) })).sort((a, b) => b.bytes - a.bytes);
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
  console.log(`${title}: ${kb(total)} gzipped`);
  for (const s of sizes) console.log(`  ${kb(s.bytes).padStart(9)}  ${s.file}`);
  return total;
}

const entries = Object.entries(manifest)
  .filter(([, chunk]) => chunk.isEntry)
  .map(([key]) => key);
const initial = report("Initial JS (entry + static imports)", withStaticImports(entries));

// A chunk is keyed by its source path, or (when Vite names it after its chunk) found by that name.
const chunkOf = (source: string) =>
  source in manifest
    ? source
    : Object.keys(manifest).find((key) => manifest[key]!.name === source.replace(/^.*\/|\.vue$/g, ""));
const apiKeysRoute = ["src/layouts/DashboardLayout.vue", "src/pages/ApiKeysPage.vue"]
  .map(chunkOf)
  .filter((key) => key !== undefined);
report(
  "API Keys page (initial + layout + page chunks, information only)",
  withStaticImports([...entries, ...apiKeysRoute]),
);

if (initial > BUDGET_BYTES) {
  console.error(`Over budget: initial JS is ${kb(initial)} gzipped, the budget is ${kb(BUDGET_BYTES)}.`);
  process.exit(1);
}
console.log(`Within budget: ${kb(initial)} of ${kb(BUDGET_BYTES)}.`);
