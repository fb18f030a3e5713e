// The environment variables each process understands, taken from the source of truth: the zod
// schemas in services/*/src/config.ts (imported, so nothing is copied), the worker's schema in
// worker/src/config.ts (read as text: importing it would load the ONNX runtime), and the README's
// configuration table. Deployment files may only set these names (or NAME_FILE for the services).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface Vocabulary {
  /** Service name (keys, auth, ingest, gateway, worker) → the variables its config reads. */
  readonly byProcess: ReadonlyMap<string, ReadonlySet<string>>;
  /** Variables in README's configuration table. */
  readonly readme: ReadonlySet<string>;
}

function isZodObject(value: unknown): value is { shape: Record<string, unknown> } {
  return typeof value === "object" && value !== null && "shape" in value && typeof value.shape === "object";
}

export async function loadVocabulary(root: string): Promise<Vocabulary> {
  const byProcess = new Map<string, Set<string>>();
  const servicesDir = join(root, "services");
  for (const name of readdirSync(servicesDir)) {
    if (name === "shared") continue;
    const file = join(servicesDir, name, "src", "config.ts");
    if (!existsSync(file)) continue;
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const schemas = Object.values(module).filter(isZodObject);
    if (schemas.length !== 1)
      throw new Error(`${file}: expected one exported z.object config schema, found ${schemas.length}`);
    byProcess.set(name, new Set(Object.keys(schemas[0]!.shape)));
  }

  const workerSource = readFileSync(join(root, "worker", "src", "config.ts"), "utf8");
  const body = /const schema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(workerSource)?.[1];
  if (!body) throw new Error("worker/src/config.ts: cannot find `const schema = z.object({ … });`");
  byProcess.set("worker", new Set([...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!)));

  const readmeText = readFileSync(join(root, "README.md"), "utf8");
  const readme = new Set([...readmeText.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\|/gm)].map((m) => m[1]!));
  return { byProcess, readme };
}

/**
 * Why `name` (set on `process`) is wrong, or undefined when it is fine. NAME_FILE is accepted for
 * the platform services, which resolve it (services/shared/src/config.ts); the worker does not.
 */
export function misnamed(vocabulary: Vocabulary, process: string, name: string): string | undefined {
  const known = vocabulary.byProcess.get(process);
  if (!known) return `no configuration schema known for ${process}`;
  if (known.has(name)) return undefined;
  if (process !== "worker" && name.endsWith("_FILE") && known.has(name.slice(0, -"_FILE".length)))
    return undefined;
  const everywhere = new Set([
    ...vocabulary.readme,
    ...[...vocabulary.byProcess.values()].flatMap((s) => [...s]),
  ]);
  const hint = everywhere.has(name)
    ? "a variable of another process"
    : "unknown to every config schema and README";
  return `${process} does not read ${name} (${hint})`;
}
