/** Maps the KeysService and AuditService contracts onto the domain objects. */

import {
  type AuditServiceServer,
  AuditServiceService,
} from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type KeysServiceServer,
  KeysServiceService,
  type Revocation,
  type WatchRevocationsRequest,
  type WatchRevocationsResponse,
} from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { roleFromProto } from "@facerec/shared/roles.ts";
import type { ServerWritableStream } from "@grpc/grpc-js";
import type { ApiKeys } from "./api-keys.ts";
import { type AuditLog, requireActor } from "./audit-log.ts";
import type { RevocationHub } from "./revocation-hub.ts";

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function keysBindings(opts: {
  apiKeys: ApiKeys;
  audit: AuditLog;
  hub: RevocationHub;
  log: Logger;
}): ServiceBinding[] {
  const { apiKeys, audit, hub, log } = opts;

  const keys: KeysServiceServer = {
    createApiKey: unary(log, "CreateApiKey", async (req) => {
      const role = roleFromProto(req.role);
      if (!role) throw invalidArgument("invalid_role", "role must be worker, viewer or admin");
      return apiKeys.create(
        requireActor(req.actor),
        { name: req.name, role, expiresAt: req.expiresAt, limits: req.limits },
        req.idempotencyKey,
      );
    }),
    listApiKeys: unary(log, "ListApiKeys", (req) =>
      apiKeys.list(requireActor(req.actor), req.pageSize, req.pageToken),
    ),
    getApiKey: unary(log, "GetApiKey", async (req) => ({
      apiKey: await apiKeys.get(requireActor(req.actor), req.id),
    })),
    updateApiKey: unary(log, "UpdateApiKey", async (req) => {
      if (req.clearExpiresAt && req.expiresAt) {
        throw invalidArgument("conflicting_expiration", "expires_at and clear_expires_at exclude each other");
      }
      const apiKey = await apiKeys.update(requireActor(req.actor), req.id, {
        name: req.name,
        active: req.active,
        expiresAt: req.clearExpiresAt ? null : req.expiresAt,
        allowedSiteIds: req.allowedSiteIds?.values,
        allowedWorkerIds: req.allowedWorkerIds?.values,
        allowedCidrs: req.allowedCidrs?.values,
      });
      return { apiKey };
    }),
    rotateApiKey: unary(log, "RotateApiKey", (req) =>
      apiKeys.rotate(requireActor(req.actor), req.id, req.gracePeriodSeconds),
    ),
    deleteApiKey: unary(log, "DeleteApiKey", async (req) => {
      await apiKeys.remove(requireActor(req.actor), req.id);
      return {};
    }),
    verifyApiKey: unary(log, "VerifyApiKey", (req) =>
      apiKeys.verify(req.key, req.tenantId, req.remoteAddress),
    ),
    getApiKeyUsage: unary(log, "GetApiKeyUsage", (req) =>
      apiKeys.usage(requireActor(req.actor), req.id, req.days),
    ),
    recordKeyUse: unary(log, "RecordKeyUse", async (req) => {
      await apiKeys.recordStreamUse(req);
      return {};
    }),
    revokeSession: unary(log, "RevokeSession", async (req) => {
      if (!SESSION_ID.test(req.sessionId) || !req.tenantId)
        throw invalidArgument("invalid_session", "session_id (a UUID) and tenant_id are required");
      await hub.revoke({ _id: req.sessionId, tenantId: req.tenantId }, "session_ended");
      return {};
    }),
    watchRevocations: (call: ServerWritableStream<WatchRevocationsRequest, WatchRevocationsResponse>) => {
      // Subscribe before reading the snapshot so nothing revoked in between is missed (duplicates
      // are harmless), but hold those back: the first message is the snapshot, which subscribers
      // take as "synced".
      let heldBack: Revocation[][] | undefined = [];
      const unsubscribe = hub.subscribe((revocations) =>
        heldBack ? heldBack.push(revocations) : call.write({ revocations }),
      );
      call.on("cancelled", unsubscribe);
      call.on("close", unsubscribe);
      hub.snapshot().then(
        (revocations) => {
          call.write({ revocations });
          for (const held of heldBack ?? []) call.write({ revocations: held });
          heldBack = undefined;
        },
        (err: unknown) => {
          log.warn({ err }, "revocation snapshot failed");
          unsubscribe();
          call.destroy(err as Error);
        },
      );
    },
  };

  const auditService: AuditServiceServer = {
    recordAuditEvent: unary(log, "RecordAuditEvent", async (req) => {
      const event = req.event;
      if (!event?.action || !event.tenantId)
        throw invalidArgument("invalid_event", "event with tenant_id and action is required");
      const actor = requireActor(event.actor);
      return { event: await audit.record({ ...event, actor }) };
    }),
    listAuditEvents: unary(log, "ListAuditEvents", (req) =>
      audit.list(requireActor(req.actor), req.pageSize, req.pageToken),
    ),
  };

  return [
    { name: "facerec.internal.keys.v1.KeysService", definition: KeysServiceService, implementation: keys },
    {
      name: "facerec.internal.audit.v1.AuditService",
      definition: AuditServiceService,
      implementation: auditService,
    },
  ];
}
