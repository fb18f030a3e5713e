// What `npm ci --omit=dev -w A -w B` puts on disk, read from package-lock.json (lockfile v3): the
// named workspaces' links and their production dependencies, transitively, each at the location
// the lockfile gives it. Lets a test ask whether an image can resolve a package without running npm.
import { readFileSync } from "node:fs";
import { posix } from "node:path";

interface LockEntry {
  resolved?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export type Lockfile = Record<string, LockEntry>;

export function readLockfile(root: string): Lockfile {
  return JSON.parse(readFileSync(posix.join(root, "package-lock.json"), "utf8")).packages as Lockfile;
}

/**
 * Where Node finds package `name` from a file or folder at `from` (paths from the root): the
 * nearest `node_modules/name` up the tree among `present` locations.
 */
export function locate(present: ReadonlySet<string>, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = posix.dirname(dir)) {
    const candidate = dir === "." || dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (present.has(candidate)) return candidate;
    if (dir === "." || dir === "") return undefined;
  }
}

/** Every lockfile location `npm ci --omit=dev -w <each of workspaces>` installs (links and their targets included). */
export function installedBy(lock: Lockfile, workspaces: readonly string[]): Set<string> {
  const all = new Set(Object.keys(lock));
  const installed = new Set<string>();
  const pending = [...workspaces];
  for (const [location, entry] of Object.entries(lock))
    if (entry.link && entry.resolved && workspaces.includes(entry.resolved)) pending.push(location);
  while (pending.length > 0) {
    const location = pending.pop()!;
    if (installed.has(location)) continue;
    installed.add(location);
    const entry = lock[location];
    if (!entry) continue;
    if (entry.link && entry.resolved) pending.push(entry.resolved);
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional);
    const names = new Set([
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.some(([p]) => p === n)),
    ]);
    for (const name of names) {
      const found = locate(all, location, name);
      if (found) pending.push(found);
    }
  }
  return installed;
}
