/**
 * Writes the people service's changes to the platform's audit log, which the keys process hosts
 * (facerec.internal.audit.v1.AuditService): one RPC per change, awaited, so a change the caller sees as done
 * is in the log.
 */
import type {
  Actor,
  AuditServiceClient,
  FieldChange,
} from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";

export type PeopleAuditAction =
  | "person.created"
  | "person.updated"
  | "person.deleted"
  | "person.observations_erased"
  | "person_face.enrolled"
  | "person_face.deleted"
  | "recognition_settings.updated"
  | "webhook.created"
  | "webhook.deleted";

export class AuditTrail {
  readonly #client: AuditServiceClient;

  constructor(client: AuditServiceClient) {
    this.#client = client;
  }

  async record(
    actor: Actor,
    action: PeopleAuditAction,
    target: { type: "person" | "person_face" | "recognition_settings" | "webhook"; id: string },
    changes: FieldChange[] = [],
  ): Promise<void> {
    await callUnary(this.#client.recordAuditEvent.bind(this.#client), {
      event: {
        id: "",
        tenantId: actor.tenantId,
        action,
        actor,
        targetType: target.type,
        targetId: target.id,
        changes,
        occurredAt: undefined,
      },
    });
  }
}
