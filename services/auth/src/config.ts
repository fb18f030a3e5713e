import { DEFAULT_PORTS, optionalString, parseConfig, port, serviceEnv } from "@facerec/shared/config.ts";
import { z } from "zod";

export const authConfigSchema = z.object({
  ...serviceEnv,
  AUTH_PORT: port(DEFAULT_PORTS.auth),
  /** Address of the keys service (`host:port`). */
  KEYS_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.keys}`),
  BOOTSTRAP_TENANT_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/)
    .default("t-default"),
  BOOTSTRAP_ADMIN_EMAIL: z.email().default("admin@localhost"),
  /** Where a generated bootstrap password is kept until the admin first signs in. */
  DATA_DIR: z.string().default(".data"),
  /** When unset, a random password is generated on first start, kept under DATA_DIR until the first sign-in. */
  BOOTSTRAP_ADMIN_PASSWORD: optionalString.refine(
    (v) => v === undefined || v.length >= 12,
    "must be at least 12 characters",
  ),
  /** bcrypt cost for passwords; at least 12. */
  BCRYPT_COST: z.coerce.number().int().min(12).max(15).default(12),
  /** Lifetime of admins' access tokens, in seconds. */
  ACCESS_TOKEN_TTL: z.coerce.number().int().min(60).max(3600).default(900),
  /** Lifetime of key-derived tokens, in seconds (never past the key's own expiration). */
  API_KEY_TOKEN_TTL: z.coerce.number().int().min(10).max(3600).default(900),
  /** Lifetime of refresh tokens, in seconds. */
  REFRESH_TOKEN_TTL: z.coerce
    .number()
    .int()
    .min(300)
    .default(7 * 24 * 3600),
});

export type AuthConfig = z.infer<typeof authConfigSchema>;
export const loadAuthConfig = (env?: NodeJS.ProcessEnv) => parseConfig(authConfigSchema, env);
