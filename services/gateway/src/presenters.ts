/**
 * Internal (proto) objects to their REST representation. Each presenter takes a generated proto type
 * and returns the type of the zod schema that documents the response (the OpenAPI document, and so
 * the dashboard's generated types), so a field added to a schema and not presented, or presented
 * and not documented, fails the type check.
 */
import { ActorType, type AuditEvent } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { Tenant, User } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import type { FaceEvent, WorkerStatus } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type { ApiKey } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { roleFromProto } from "@facerec/shared/roles.ts";
import type { z } from "zod";
import type { faceEventSchema, workerSchema } from "./ingest-schemas.ts";
import type { apiKeySchema, auditEventSchema, tenantSchema, userSchema } from "./schemas.ts";

const iso = (d: Date | undefined) => d?.toISOString() ?? null;
/** A timestamp the contract always sets (creation times); the proto types leave every message field optional. */
const stamp = (d: Date | undefined) => d!.toISOString();

/** Keys this close to their expiration are flagged (`expiresSoon`) so admins renew or rotate in time. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;
/** Active keys unused this long are flagged (`stale`) as candidates for deactivation. */
export const STALE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

export function presentApiKey(key: ApiKey): z.infer<typeof apiKeySchema> {
  const untilExpiry = key.expiresAt ? key.expiresAt.getTime() - Date.now() : Number.POSITIVE_INFINITY;
  const expired = untilExpiry <= 0;
  return {
    id: key.id,
    name: key.name,
    role: roleFromProto(key.role)!,
    prefix: key.prefix,
    active: key.active,
    status: !key.active ? "inactive" : expired ? "expired" : "active",
    expiresAt: iso(key.expiresAt),
    expiresSoon: key.active && !expired && untilExpiry <= EXPIRY_WARNING_MS,
    stale:
      key.active &&
      !expired &&
      Date.now() - (key.lastUsedAt ?? key.createdAt ?? new Date()).getTime() >= STALE_AFTER_MS,
    lastUsedAt: iso(key.lastUsedAt),
    lastUsedBy: key.lastWorkerId
      ? { workerId: key.lastWorkerId, remoteAddress: key.lastRemoteAddress }
      : null,
    createdAt: stamp(key.createdAt),
    createdBy: key.createdBy,
    rotatedAt: iso(key.rotatedAt),
    previousSecretExpiresAt: iso(key.previousSecretExpiresAt),
    allowedSiteIds: key.allowedSiteIds,
    allowedWorkerIds: key.allowedWorkerIds,
    allowedCidrs: key.allowedCidrs,
  };
}

export function presentUser(user: User): z.infer<typeof userSchema> {
  return {
    id: user.id,
    tenantId: user.tenantId,
    email: user.email,
    role: roleFromProto(user.role)!,
    platformAdmin: user.platformAdmin,
    createdAt: stamp(user.createdAt),
  };
}

export function presentTenant(tenant: Tenant): z.infer<typeof tenantSchema> {
  return { id: tenant.id, name: tenant.name, createdAt: stamp(tenant.createdAt) };
}

const ACTOR_TYPE_NAMES: Record<number, "user" | "api_key" | "system"> = {
  [ActorType.ACTOR_TYPE_USER]: "user",
  [ActorType.ACTOR_TYPE_API_KEY]: "api_key",
  [ActorType.ACTOR_TYPE_SYSTEM]: "system",
};

export function presentAuditEvent(event: AuditEvent): z.infer<typeof auditEventSchema> {
  return {
    id: event.id,
    tenantId: event.tenantId,
    action: event.action,
    actor: {
      actorId: event.actor?.actorId ?? "",
      actorType: ACTOR_TYPE_NAMES[event.actor?.actorType ?? 0] ?? "unspecified",
      displayName: event.actor?.displayName ?? "",
      remoteAddress: event.actor?.remoteAddress ?? "",
      userAgent: event.actor?.userAgent ?? "",
    },
    targetType: event.targetType,
    targetId: event.targetId,
    changes: event.changes,
    occurredAt: stamp(event.occurredAt),
  };
}

export function presentWorker(worker: WorkerStatus): z.infer<typeof workerSchema> {
  return {
    workerId: worker.workerId,
    keyId: worker.keyId,
    keyName: worker.keyName,
    siteId: worker.siteId,
    cameraId: worker.cameraId,
    remoteAddress: worker.remoteAddress,
    connected: worker.connected,
    connectedSince: iso(worker.connectedSince),
    lastBatchAt: iso(worker.lastBatchAt),
    lastSeenAt: stamp(worker.lastSeenAt),
    observationsPerMinute: worker.observationsPerMinute,
    streamCount: worker.streamCount,
    disconnectReason: worker.connected ? null : worker.disconnectReason || null,
  };
}

export function presentEvent(event: FaceEvent, includeEmbedding: boolean): z.infer<typeof faceEventSchema> {
  return {
    id: event.id,
    batchId: event.batchId,
    workerId: event.workerId,
    siteId: event.siteId,
    cameraId: event.cameraId,
    keyId: event.keyId,
    capturedAt: stamp(event.capturedAt),
    receivedAt: stamp(event.receivedAt),
    frameSeq: String(event.frameSeq),
    bbox: event.bbox!,
    landmarks: event.landmarks,
    detScore: event.detScore,
    embeddingDim: event.embeddingDim,
    model: event.model,
    quality: event.quality,
    trackId: String(event.trackId),
    thumbnailUrl: event.hasThumbnail ? `/v1/events/${encodeURIComponent(event.id)}/thumbnail` : null,
    personId: event.personId || null,
    similarity: event.personId ? event.similarity : null,
    faceId: event.faceId || null,
    ...(includeEmbedding ? { embedding: event.embedding.toString("base64") } : {}),
  };
}
