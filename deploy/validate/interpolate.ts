// Compose's variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
// ${VAR?error}, $$), applied to every string of a parsed compose file, so the schema and the
// repository checks see what `docker compose config` would.

export type Env = Readonly<Record<string, string | undefined>>;

export function interpolateString(value: string, env: Env): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare) => {
      if (match === "$$") return "$";
      const name = braced ?? (bare as string);
      const current = env[name];
      const unset = current === undefined || (op?.startsWith(":") === true && current === "");
      if (op?.endsWith("-")) return unset ? (arg ?? "") : current!;
      if (op?.endsWith("?")) {
        if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
        return current!;
      }
      return current ?? "";
    },
  );
}

export function interpolate<T>(value: T, env: Env): T {
  if (typeof value === "string") return interpolateString(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  }
  return value;
}

/** Every variable a compose file interpolates. */
export function referencedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text
    .replace(/\$\$/g, "")
    .matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    names.add((m[1] ?? m[2])!);
  }
  return names;
}

/** A dotenv file's assignments (KEY=value lines; no interpolation, no quotes needed here). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}
