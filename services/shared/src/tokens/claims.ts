import { z } from "zod";

/** `iss` of every platform token. */
export const TOKEN_ISSUER = "facerec-auth";
/** `aud` of every platform token. */
export const TOKEN_AUDIENCE = "facerec";
/** The only signature algorithm tokens are signed or accepted with (Ed25519). */
export const TOKEN_ALGORITHM = "EdDSA";

export const ROLES = ["worker", "viewer", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

/** The claims every platform JWT carries; `styp` says whether `sub` is a user id or an API key id. */
export const tokenClaimsSchema = z.object({
  iss: z.literal(TOKEN_ISSUER),
  aud: z.union([z.literal(TOKEN_AUDIENCE), z.array(z.string()).refine((a) => a.includes(TOKEN_AUDIENCE))]),
  sub: z.string().min(1),
  tid: z.string().min(1),
  role: z.enum(ROLES),
  styp: z.enum(["user", "api_key"]),
  /** Display name: the user's email or the key's name. */
  name: z.string(),
  /** A user's session (refresh-token family): signing out revokes its tokens by this id. */
  sid: z.string().optional(),
  /** Platform admins may manage tenants. */
  padm: z.boolean().optional(),
  /** Set when the API key is limited to sites: the only `site_id`s its token may stream for. */
  sites: z.array(z.string()).optional(),
  /** Set when the API key is limited to workers: the only `worker_id`s its token may stream for. */
  workers: z.array(z.string()).optional(),
  jti: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
});

export type TokenClaims = z.infer<typeof tokenClaimsSchema>;
