/** Internal (proto) objects to their REST representation. */
import { ActorType, type AuditEvent } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { Tenant, User } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import type { ApiKey } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { roleFromProto } from "@facerec/shared/roles.ts";

const iso = (d: Date | undefined) => d?.toISOString() ?? null;

/** Keys this close to their expiration are flagged (`expiresSoon`) so admins renew or rotate in time. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;
/** Active keys unused this long are flagged (`stale`) as candidates for deactivation. */
export const STALE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

export function presentApiKey(key: ApiKey) {
  const untilExpiry = key.expiresAt ? key.expiresAt.getTime() - Date.now() : Number.POSITIVE_INFINITY;
  const expired = untilExpiry <= 0;
  return {
    id: key.id,
    name: key.name,
    role: roleFromProto(key.role),
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
    createdAt: iso(key.createdAt),
    createdBy: key.createdBy,
    rotatedAt: iso(key.rotatedAt),
    previousSecretExpiresAt: iso(key.previousSecretExpiresAt),
    allowedSiteIds: key.allowedSiteIds,
    allowedWorkerIds: key.allowedWorkerIds,
    allowedCidrs: key.allowedCidrs,
  };
}

export function presentUser(user: User) {
  return {
    id: user.id,
    tenantId: user.tenantId,
    email: user.email,
    role: roleFromProto(user.role),
    platformAdmin: user.platformAdmin,
    createdAt: iso(user.createdAt),
  };
}

export function presentTenant(tenant: Tenant) {
  return { id: tenant.id, name: tenant.name, createdAt: iso(tenant.createdAt) };
}

const ACTOR_TYPE_NAMES: Record<number, string> = {
  [ActorType.ACTOR_TYPE_USER]: "user",
  [ActorType.ACTOR_TYPE_API_KEY]: "api_key",
  [ActorType.ACTOR_TYPE_SYSTEM]: "system",
};

export function presentAuditEvent(event: AuditEvent) {
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
    occurredAt: iso(event.occurredAt),
  };
}
