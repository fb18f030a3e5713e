/** The append-only audit log: every key change and every sign-in, with who, when and from where. */
import { type Actor, ActorType, type AuditEvent } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";
import type { AuditEventDoc, KeysModels } from "./models.ts";

const ACTOR_TYPES: Record<string, ActorType> = {
  user: ActorType.ACTOR_TYPE_USER,
  api_key: ActorType.ACTOR_TYPE_API_KEY,
  system: ActorType.ACTOR_TYPE_SYSTEM,
};

function actorTypeName(type: ActorType): string {
  return Object.keys(ACTOR_TYPES).find((k) => ACTOR_TYPES[k] === type) ?? "unspecified";
}

/** The caller of a tenant-scoped RPC; refuses calls that carry none. */
export function requireActor(actor: Actor | undefined): Actor {
  if (!actor?.tenantId || !actor.actorId || actor.actorType === ActorType.ACTOR_TYPE_UNSPECIFIED) {
    throw invalidArgument("missing_actor", "actor with tenant_id, actor_id and actor_type is required");
  }
  return actor;
}

export interface AuditEntry {
  tenantId: string;
  action: string;
  actor: Actor;
  targetType: string;
  targetId: string;
  changes?: { field: string; oldValue: string; newValue: string }[];
}

export class AuditLog {
  readonly #events: KeysModels["auditEvents"];

  constructor(models: KeysModels) {
    this.#events = models.auditEvents;
  }

  /** Appends an event; a given `id` makes an event that several replicas may record a single one. */
  async record(entry: AuditEntry, id: string = crypto.randomUUID()): Promise<AuditEvent> {
    const doc = await this.#events.create({
      _id: id,
      tenantId: entry.tenantId,
      action: entry.action,
      actor: {
        actorId: entry.actor.actorId,
        actorType: actorTypeName(entry.actor.actorType),
        displayName: entry.actor.displayName,
        remoteAddress: entry.actor.remoteAddress,
        userAgent: entry.actor.userAgent,
      },
      targetType: entry.targetType,
      targetId: entry.targetId,
      changes: entry.changes ?? [],
      occurredAt: new Date(),
    });
    return toAuditEvent(doc.toObject() as AuditEventDoc);
  }

  async list(actor: Actor, requestedSize: number, pageToken: string) {
    const size = clampPageSize(requestedSize, 50);
    const rows = await this.#events
      .find({ tenantId: actor.tenantId, ...afterCursor("occurredAt", pageToken) })
      .sort({ occurredAt: -1, _id: -1 })
      .limit(size + 1)
      .lean<AuditEventDoc[]>();
    const page = toPage(rows, size, (r) => r.occurredAt);
    return { auditEvents: page.rows.map(toAuditEvent), nextPageToken: page.nextPageToken };
  }
}

function toAuditEvent(doc: AuditEventDoc): AuditEvent {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    action: doc.action,
    actor: {
      tenantId: doc.tenantId,
      actorId: doc.actor?.actorId ?? "",
      actorType: ACTOR_TYPES[doc.actor?.actorType ?? ""] ?? ActorType.ACTOR_TYPE_UNSPECIFIED,
      displayName: doc.actor?.displayName ?? "",
      remoteAddress: doc.actor?.remoteAddress ?? "",
      userAgent: doc.actor?.userAgent ?? "",
    },
    targetType: doc.targetType ?? "",
    targetId: doc.targetId ?? "",
    changes: (doc.changes ?? []).map((c) => ({
      field: c.field ?? "",
      oldValue: c.oldValue ?? "",
      newValue: c.newValue ?? "",
    })),
    occurredAt: doc.occurredAt,
  };
}
