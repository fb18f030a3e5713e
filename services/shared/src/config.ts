/**
 * Configuration is read from the environment once, at start, validated with zod and frozen.
 * Nothing else in a service reads process.env.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Docker and Kubernetes secrets arrive as files: for any variable NAME the service knows, NAME_FILE
 * names a file whose contents (without the trailing newline) become NAME. Setting both is an error.
 * Other *_FILE variables (SSL_CERT_FILE, …) are not ours and are left alone.
 */
function resolveFileVariables(known: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const name of known) {
    const key = `${name}_FILE`;
    const path = env[key];
    if (!path) continue;
    if (env[name])
      throw new ConfigError(`invalid configuration:\n  ${name}: set either ${name} or ${key}, not both`);
    try {
      resolved[name] = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new ConfigError(
        `invalid configuration:\n  ${key}: cannot read ${path} (${(err as Error).message})`,
      );
    }
  }
  return resolved;
}

export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(resolveFileVariables(Object.keys(schema.shape), env));
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(env)"}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze(result.data);
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const logLevel = z
  .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
  .default("info");
export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

export const DEFAULT_PORTS = Object.freeze({
  gateway: 8080,
  auth: 50061,
  keys: 50062,
  ingest: 50051,
  people: 50063,
  mongo: 27017,
});

/** Settings every backend service shares. */
export const serviceEnv = {
  LOG_LEVEL: logLevel,
  MONGO_URL: optionalString,
  MONGO_DB: z.string().default("facerec"),
  /** Interface internal gRPC servers bind to; containers set 0.0.0.0. */
  BIND_HOST: z.string().default("127.0.0.1"),
};
