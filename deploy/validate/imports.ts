// The repository files a TypeScript entry point loads at run time: its static and literal dynamic
// imports, followed through relative paths and the @facerec/* workspaces (by their package.json
// `exports`). Packages from node_modules and `node:` built-ins are not followed (packageOf names
// them); `import type` and `export type` are left out, since Node strips them before running the file.
import { readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { posix } from "node:path";

const SPECIFIERS = [
  /^\s*import\s+(?!type\s)(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/gm,
  /^\s*export\s+(?!type\s)[\w*{}\s,$]+?\s+from\s+["']([^"']+)["']/gm,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

interface Workspace {
  dir: string;
  exports: Record<string, string> | undefined;
}

/** Workspace package name → its folder and exports, from the root package.json's `workspaces`. */
export function workspaces(root: string): Map<string, Workspace> {
  const read = (path: string) => JSON.parse(readFileSync(posix.join(root, path), "utf8"));
  const found = new Map<string, Workspace>();
  for (const dir of read("package.json").workspaces as string[]) {
    const manifest = read(`${dir}/package.json`);
    found.set(manifest.name, { dir, exports: manifest.exports });
  }
  return found;
}

/** A workspace subpath through its `exports` ("./*" patterns and exact keys), or as a plain path. */
function exported(ws: Workspace, subpath: string): string {
  if (!ws.exports) return posix.join(ws.dir, subpath);
  const key = `./${subpath}`;
  if (ws.exports[key]) return posix.join(ws.dir, ws.exports[key]);
  for (const [pattern, target] of Object.entries(ws.exports)) {
    const star = pattern.indexOf("*");
    if (star < 0) continue;
    const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (key.startsWith(prefix) && key.endsWith(suffix))
      return posix.join(ws.dir, target.replace("*", key.slice(prefix.length, key.length - suffix.length)));
  }
  throw new Error(`${subpath} is not exported by ${ws.dir}`);
}

/** Every repository file (paths from the root) that `entry` loads, itself included. */
export function runtimeClosure(root: string, entry: string, packages = workspaces(root)): Set<string> {
  const seen = new Set<string>();
  const pending = [posix.normalize(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiersIn(root, file)) {
      const target = resolve(file, specifier, packages);
      if (target) pending.push(target);
    }
  }
  return seen;
}

/** What a file imports at run time, as written. */
export function specifiersIn(root: string, file: string): string[] {
  const text = readFileSync(posix.join(root, file), "utf8");
  return SPECIFIERS.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

/** The package a bare specifier names ("@scope/name/sub" → "@scope/name"), or undefined for paths and built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || isBuiltin(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function resolve(from: string, specifier: string, packages: Map<string, Workspace>): string | undefined {
  if (specifier.startsWith(".")) return posix.join(posix.dirname(from), specifier);
  const match = /^(@facerec\/[^/]+)\/(.+)$/.exec(specifier);
  const ws = match && packages.get(match[1]!);
  return ws ? exported(ws, match[2]!) : undefined;
}
