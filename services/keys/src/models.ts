/** The keys service's collections. Only this service reads or writes them. */

import { ROLES } from "@facerec/shared/tokens/claims.ts";
import { type Connection, type InferSchemaType, Schema } from "mongoose";

const apiKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    /** HMAC-SHA-256 of the plaintext under the pepper. Never leaves this service. */
    hash: { type: Buffer, required: true },
    prefix: { type: String, required: true },
    active: { type: Boolean, required: true },
    expiresAt: { type: Date, default: null },
    lastUsedAt: { type: Date, default: null },
    /** Worker id and client address of the last ingest stream that used the key. */
    lastWorkerId: { type: String, default: "" },
    lastRemoteAddress: { type: String, default: "" },
    /** When tokens issued up to now were last revoked while the key stayed usable (rotation, new limits). */
    tokensRevokedAt: { type: Date, default: null },
    /** The expiresAt an `api_key.expiring` event was recorded for, so each expiration is announced once. */
    expiryAnnouncedFor: { type: Date, default: null },
    /** When the secret was last rotated. */
    rotatedAt: { type: Date, default: null },
    /** HMAC of the secret before the last rotation, valid until previousSecretExpiresAt. */
    previousHash: { type: Buffer, default: null },
    previousSecretExpiresAt: { type: Date, default: null },
    /** Limits (empty = none): sites and workers its tokens may stream for, ranges it may be exchanged from. */
    allowedSiteIds: { type: [String], default: [] },
    allowedWorkerIds: { type: [String], default: [] },
    allowedCidrs: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
    createdById: { type: String, required: true },
  },
  { collection: "api_keys", versionKey: false },
);
apiKeySchema.index({ tenantId: 1, createdAt: -1, _id: -1 });
apiKeySchema.index({ expiresAt: 1 });
apiKeySchema.index({ previousSecretExpiresAt: 1 });

const revocationSchema = new Schema(
  {
    _id: { type: String, required: true },
    keyId: { type: String, required: true },
    tenantId: { type: String, required: true },
    revokedAt: { type: Date, required: true },
    /**
     * When the revocation was written; differs from revokedAt for the end of a rotation's grace
     * period, which revokes the tokens issued before the rotation. Replicas poll on it.
     */
    recordedAt: { type: Date },
    reason: {
      type: String,
      enum: ["deactivated", "deleted", "expired", "rotated", "limits_changed", "session_ended"],
      required: true,
    },
  },
  { collection: "key_revocations", versionKey: false },
);
revocationSchema.index({ revokedAt: 1 });
revocationSchema.index({ recordedAt: 1 });

const auditEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    action: { type: String, required: true },
    actor: {
      actorId: String,
      actorType: String,
      displayName: String,
      remoteAddress: String,
      userAgent: String,
    },
    targetType: { type: String, default: "" },
    targetId: { type: String, default: "" },
    changes: [{ _id: false, field: String, oldValue: String, newValue: String }],
    occurredAt: { type: Date, required: true },
  },
  { collection: "audit_events", versionKey: false },
);
auditEventSchema.index({ tenantId: 1, occurredAt: -1, _id: -1 });

/** One key's use on one UTC day (`_id` is `<keyId>:<YYYY-MM-DD>`), kept 90 days. */
const keyUsageSchema = new Schema(
  {
    _id: { type: String, required: true },
    keyId: { type: String, required: true },
    tenantId: { type: String, required: true },
    day: { type: String, required: true },
    exchanges: { type: Number, default: 0 },
    observations: { type: Number, default: 0 },
    /** Refused exchanges by problem code. */
    refusals: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: "key_usage", versionKey: false, minimize: false },
);
keyUsageSchema.index({ day: 1 });
keyUsageSchema.index({ keyId: 1 });

/**
 * An Idempotency-Key of a key creation (`_id`: a hash of tenant, actor and the key, so a claim is
 * one atomic insert on every replica), kept 24 hours: the request's fingerprint, the key it creates
 * (its plaintext sealed with AES-256-GCM under a key derived from the pepper) and, once created,
 * the answer, encoded.
 */
const creationClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    actorId: { type: String, required: true },
    fingerprint: { type: String, required: true },
    keyId: { type: String, required: true },
    sealedKey: { type: Buffer, required: true },
    /** The created ApiKey (protobuf); null until the creation is done. */
    apiKey: { type: Buffer, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: "api_key_creation_claims", versionKey: false },
);
creationClaimSchema.index({ createdAt: 1 });

export type ApiKeyDoc = InferSchemaType<typeof apiKeySchema> & { _id: string };
export type CreationClaimDoc = InferSchemaType<typeof creationClaimSchema> & { _id: string };
export type KeyUsageDoc = InferSchemaType<typeof keyUsageSchema> & { _id: string };
export type RevocationDoc = InferSchemaType<typeof revocationSchema> & { _id: string };
export type AuditEventDoc = InferSchemaType<typeof auditEventSchema> & { _id: string };

export async function keysModels(connection: Connection) {
  const models = {
    apiKeys: connection.model("ApiKey", apiKeySchema),
    revocations: connection.model("KeyRevocation", revocationSchema),
    auditEvents: connection.model("AuditEvent", auditEventSchema),
    keyUsage: connection.model("KeyUsage", keyUsageSchema),
    creationClaims: connection.model("ApiKeyCreationClaim", creationClaimSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}

export type KeysModels = Awaited<ReturnType<typeof keysModels>>;
