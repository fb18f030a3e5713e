/**
 * The REST contract's shapes. The same zod schemas validate requests and generate the OpenAPI
 * document, so the two cannot drift. JSON follows the proto3 JSON mapping: lowerCamelCase out;
 * snake_case request keys are accepted too (see input-case.ts).
 */

import { FAILURE_CODES, PROBLEM_CODES, problemStatus } from "@facerec/proto/failure-codes.ts";
import { ROLES } from "@facerec/shared/tokens/claims.ts";
import { z } from "zod";

const timestamp = z.iso.datetime({ offset: true });
const nullableTimestamp = timestamp.nullable();

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(PROBLEM_CODES).meta({
      description: `Stable machine-readable error code; branch on it, never on \`detail\`.\n\n${PROBLEM_CODES.map(
        (code) =>
          `- \`${code}\` (${problemStatus(code)}): ${FAILURE_CODES[code].meaning}. Fix: ${FAILURE_CODES[code].fix}.`,
      ).join("\n")}`,
    }),
    instance: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const roleSchema = z.enum(ROLES).meta({ id: "Role" });

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: roleSchema,
    prefix: z.string().meta({ description: "First characters of the key, safe to display." }),
    active: z.boolean(),
    status: z.enum(["active", "inactive", "expired"]),
    expiresAt: nullableTimestamp,
    stale: z.boolean().meta({
      description:
        "True for an active key unused (or, if never used, created) 30 days ago or more: a candidate for deactivation.",
    }),
    expiresSoon: z.boolean().meta({
      description:
        "True for an active key that expires within 7 days: renew or rotate it before workers are refused.",
    }),
    lastUsedAt: nullableTimestamp,
    lastUsedBy: z.object({ workerId: z.string(), remoteAddress: z.string() }).nullable().meta({
      description:
        "The worker id and client address of the last ingest stream that used the key; null until one has.",
    }),
    createdAt: timestamp,
    createdBy: z.string(),
    rotatedAt: nullableTimestamp.meta({
      description: "When the key's secret was last rotated; null if never.",
    }),
    previousSecretExpiresAt: nullableTimestamp.meta({
      description:
        "While a rotation's grace period runs: when the previous secret (and every token from it) stops working. Null otherwise.",
    }),
    allowedSiteIds: z
      .array(z.string())
      .meta({ description: "The SITE_IDs the key's workers may stream for; empty means any site." }),
    allowedWorkerIds: z
      .array(z.string())
      .meta({ description: "The WORKER_IDs the key's workers may stream as; empty means any worker." }),
    allowedCidrs: z.array(z.string()).meta({
      description:
        "Address ranges token exchanges must come from (see TRUST_PROXY); empty means anywhere. Otherwise 401 `ip_not_allowed`.",
    }),
  })
  .meta({ id: "ApiKey" });

export const userSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    email: z.string(),
    role: roleSchema,
    platformAdmin: z.boolean(),
    createdAt: timestamp,
  })
  .meta({ id: "User" });

export const tenantSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: timestamp })
  .meta({ id: "Tenant" });

export const sessionResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int(),
    user: userSchema,
  })
  .meta({ id: "SessionResponse" });

export const loginBody = z.strictObject({
  email: z.string().min(3).max(320),
  password: z.string().min(1).max(200),
  tenantId: z.string().min(1).max(64).optional().meta({
    description:
      "Only when the same email and password open accounts in several tenants (emails are unique per tenant): which one. Otherwise 400 `tenant_required`.",
  }),
});

export const tokenBody = z.strictObject({
  apiKey: z.string().min(1).max(200).meta({ description: "The API key (WORKER_API_KEY)." }),
  tenantId: z.string().min(1).max(64).meta({ description: "The key's tenant (TENANT_ID)." }),
});

export const tokenResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int(),
    ingestEndpoint: z.string().meta({
      description:
        "Where to stream (IngestService.StreamFaces): `grpc://host:port` (plaintext) or `grpcs://host:port` (TLS). gRPC libraries take the `host:port` part as their target (grpc-python, grpc-go, grpc-js), with TLS channel credentials for `grpcs`.",
      example: "grpc://ingest.example.lan:50051",
    }),
    keyExpiresAt: z.iso.datetime().nullable().meta({
      description:
        "When the API key itself expires (null: never), so a worker can warn ahead of it; the token expires far sooner (`expiresIn`).",
      example: "2027-01-31T00:00:00.000Z",
    }),
  })
  .meta({ id: "TokenResponse" });

export const jwksResponse = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        crv: z.string(),
        x: z.string(),
        kid: z.string(),
        alg: z.string(),
        use: z.string(),
      }),
    ),
  })
  .meta({ id: "JWKS" });

export const meResponse = z
  .object({
    tenantId: z.string(),
    role: roleSchema,
    user: userSchema.optional(),
    apiKey: apiKeySchema.optional(),
  })
  .meta({ id: "Me" });

const futureTimestamp = timestamp.refine((v) => Date.parse(v) > Date.now(), "must be in the future");

/** `site_id` / `worker_id` as the ingest contract spells them. */
const nameId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9._-]");
/** A CIDR range, or a single address (taken as /32 or /128). */
const addressRange = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: "an address range such as 10.0.0.0/8 or 2001:db8::/32, or a single address",
});
const keyLimits = {
  allowedSiteIds: z
    .array(nameId)
    .max(100)
    .optional()
    .meta({ description: "Limit the key to these SITE_IDs; empty or absent: any site.", example: ["s-1"] }),
  allowedWorkerIds: z
    .array(nameId)
    .max(100)
    .optional()
    .meta({
      description: "Limit the key to these WORKER_IDs; empty or absent: any worker.",
      example: ["worker-001"],
    }),
  allowedCidrs: z
    .array(addressRange)
    .max(100)
    .optional()
    .meta({
      description: "Token exchanges only from these ranges; empty or absent: anywhere.",
      example: ["10.20.0.0/16"],
    }),
};

export const createApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    role: roleSchema,
    expiresAt: futureTimestamp.nullish(),
    ...keyLimits,
  })
  .meta({
    example: {
      name: "Production Worker 01",
      role: "worker",
      allowedSiteIds: ["s-1"],
      allowedCidrs: ["10.20.0.0/16"],
    },
  });

export const createApiKeyResponse = z
  .object({
    apiKey: apiKeySchema,
    key: z.string().meta({
      description:
        "The plaintext key. Returned only here (and in replays of this creation to the same caller under its Idempotency-Key, for 24 hours).",
    }),
  })
  .meta({ id: "CreatedApiKey" });

/** The header that makes a create safe to retry (POST /v1/api-keys), as Stripe's and the IETF draft's. */
export const idempotencyKeyHeaders = z.object({
  "Idempotency-Key": z
    .string()
    .regex(/^[\x20-\x7e]{1,255}$/, "1 to 255 printable ASCII characters")
    .optional()
    .meta({
      description:
        "Makes the request safe to retry: a unique value such as a UUID. Within 24 hours, the same caller sending the same key with the same body gets the first response again (201, the same key and secret, `Idempotent-Replayed: true`) and nothing is created; the same key with a different body is 422 `idempotency_key_reused`; while the first request is still running, 409 `idempotency_key_in_use`. Keys are per caller.",
      example: "0190f3c2-7b1e-7cc0-9f4e-6f1d2a3b4c5d",
    }),
});

export const idempotentReplayHeaders = z.object({
  "Idempotent-Replayed": z.enum(["true"]).optional().meta({
    description: "Present when this answers an earlier request with the same Idempotency-Key again.",
  }),
});

export const updateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    active: z.boolean().optional(),
    expiresAt: futureTimestamp.nullable().optional().meta({ description: "null removes the expiration." }),
    ...keyLimits,
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    "at least one of name, active, expiresAt, allowedSiteIds, allowedWorkerIds, allowedCidrs is required",
  );

export const rotateApiKeyBody = z
  .strictObject({
    gracePeriodSeconds: z.number().int().min(0).max(604_800).meta({
      description:
        "How long the current secret keeps working beside the new one: 0 (stops at once) to 604800 (7 days).",
      example: 86_400,
    }),
  })
  .meta({ example: { gracePeriodSeconds: 86_400 } });

export const apiKeyResponse = z.object({ apiKey: apiKeySchema }).meta({ id: "ApiKeyResponse" });

export const apiKeyUsageQuery = z.strictObject({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(90)
    .optional()
    .meta({ description: "Days ending today (UTC); default 30." }),
});

export const apiKeyUsageResponse = z
  .object({
    days: z.array(
      z.object({
        day: z.string().meta({ description: "YYYY-MM-DD (UTC)" }),
        tokenExchanges: z.number().int(),
        refusals: z.record(z.string(), z.number().int()).meta({
          description:
            "Refused token exchanges by problem code, e.g. `key_inactive`; causes with none are absent.",
        }),
        observations: z
          .number()
          .int()
          .meta({ description: "Observations stored from streams with the key's tokens." }),
      }),
    ),
  })
  .meta({
    id: "ApiKeyUsage",
    example: {
      days: [
        { day: "2026-12-05", tokenExchanges: 96, refusals: {}, observations: 18_240 },
        { day: "2026-12-06", tokenExchanges: 41, refusals: { ip_not_allowed: 3 }, observations: 7_310 },
      ],
    },
  });

export const pageQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(500).optional(),
  pageToken: z.string().max(200).optional(),
});

export const apiKeyListResponse = z
  .object({ apiKeys: z.array(apiKeySchema), nextPageToken: z.string() })
  .meta({ id: "ApiKeyList" });

export const idParams = z.strictObject({ id: z.string().min(1).max(64) });

export const auditEventSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    action: z.string(),
    actor: z.object({
      actorId: z.string(),
      actorType: z.enum(["user", "api_key", "system", "unspecified"]),
      displayName: z.string(),
      remoteAddress: z.string(),
      userAgent: z.string(),
    }),
    targetType: z.string(),
    targetId: z.string(),
    changes: z.array(z.object({ field: z.string(), oldValue: z.string(), newValue: z.string() })),
    occurredAt: timestamp,
  })
  .meta({ id: "AuditEvent" });

export const auditEventListResponse = z
  .object({ auditEvents: z.array(auditEventSchema), nextPageToken: z.string() })
  .meta({ id: "AuditEventList" });

export const createTenantBody = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, "3 to 40 lower-case letters, digits and dashes"),
  name: z.string().trim().min(1).max(100),
  adminEmail: z.email().max(320),
  adminPassword: z.string().min(12).max(200),
});

export const createTenantResponse = z
  .object({ tenant: tenantSchema, admin: userSchema })
  .meta({ id: "CreatedTenant" });
export const tenantListResponse = z.object({ tenants: z.array(tenantSchema) }).meta({ id: "TenantList" });

export const createUserBody = z.strictObject({
  email: z.email().max(320),
  password: z.string().min(12).max(200),
  role: z.enum(["admin", "viewer"]),
});

export const userResponse = z.object({ user: userSchema }).meta({ id: "UserResponse" });
