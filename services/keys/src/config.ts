import { DEFAULT_PORTS, optionalString, parseConfig, port, serviceEnv } from "@facerec/shared/config.ts";
import { z } from "zod";

export const keysConfigSchema = z.object({
  ...serviceEnv,
  KEYS_PORT: port(DEFAULT_PORTS.keys),
  DATA_DIR: z.string().default(".data"),
  /** Server-side secret mixed into every key hash. Required in production; generated under DATA_DIR otherwise. */
  API_KEY_PEPPER: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    "must be at least 32 characters",
  ),
  /** How often each replica looks for revocations made by other replicas, in ms. */
  REVOCATION_POLL_MS: z.coerce.number().int().min(50).max(5000).default(200),
});

export type KeysConfig = z.infer<typeof keysConfigSchema>;
export const loadKeysConfig = (env?: NodeJS.ProcessEnv) => parseConfig(keysConfigSchema, env);
