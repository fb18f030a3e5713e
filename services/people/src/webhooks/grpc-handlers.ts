/** Maps the WebhooksService contract onto the Webhooks domain object. */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  DeliveryStatus,
  type Webhook,
  type WebhookDelivery,
  type WebhooksServiceServer,
  WebhooksServiceService,
} from "@facerec/proto/facerec/internal/webhooks/v1/webhooks.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { DeliveryDoc, WebhookDoc } from "./models.ts";
import type { Webhooks } from "./webhooks.ts";

const STATUSES: Record<string, DeliveryStatus> = {
  pending: DeliveryStatus.DELIVERY_STATUS_PENDING,
  succeeded: DeliveryStatus.DELIVERY_STATUS_SUCCEEDED,
  failed: DeliveryStatus.DELIVERY_STATUS_FAILED,
};

function requireTenant(actor: Actor | undefined): Actor {
  if (!actor?.tenantId || !actor.actorId)
    throw invalidArgument("missing_actor", "actor with tenant_id and actor_id is required");
  return actor;
}

function toWebhook(doc: WebhookDoc): Webhook {
  return {
    id: doc._id,
    url: doc.url,
    description: doc.description ?? "",
    eventTypes: doc.eventTypes,
    watchlistOnly: doc.watchlistOnly ?? false,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
  };
}

function toDelivery(doc: DeliveryDoc): WebhookDelivery {
  return {
    id: doc._id,
    webhookId: doc.webhookId,
    eventId: doc.eventId,
    eventType: doc.eventType,
    status: STATUSES[doc.status] ?? DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED,
    attempts: doc.attempts ?? 0,
    createdAt: doc.createdAt,
    lastAttemptAt: doc.lastAttemptAt ?? undefined,
    lastStatusCode: doc.lastStatusCode ?? 0,
    lastResponseExcerpt: doc.lastResponseExcerpt ?? "",
    nextAttemptAt: doc.status === "pending" ? (doc.nextAttemptAt ?? undefined) : undefined,
  };
}

export function webhookBindings(opts: {
  webhooks: Webhooks;
  /** Told after a webhook is created or deleted, so the event sources follow at once. */
  onChange: () => void;
  log: Logger;
}): ServiceBinding {
  const { webhooks, onChange, log } = opts;
  const service: WebhooksServiceServer = {
    createWebhook: unary(log, "CreateWebhook", async (req) => {
      const { webhook, secret } = await webhooks.create(requireTenant(req.actor), {
        url: req.url,
        eventTypes: req.eventTypes,
        watchlistOnly: req.watchlistOnly,
        description: req.description,
      });
      onChange();
      return { webhook: toWebhook(webhook), secret };
    }),
    listWebhooks: unary(log, "ListWebhooks", async (req) => ({
      webhooks: (await webhooks.list(requireTenant(req.actor))).map(toWebhook),
    })),
    getWebhook: unary(log, "GetWebhook", async (req) => ({
      webhook: toWebhook(await webhooks.get(requireTenant(req.actor), req.id)),
    })),
    deleteWebhook: unary(log, "DeleteWebhook", async (req) => {
      await webhooks.remove(requireTenant(req.actor), req.id);
      onChange();
      return {};
    }),
    listWebhookDeliveries: unary(log, "ListWebhookDeliveries", async (req) => {
      const page = await webhooks.deliveries(
        requireTenant(req.actor),
        req.webhookId,
        req.pageSize,
        req.pageToken,
      );
      return { deliveries: page.rows.map(toDelivery), nextPageToken: page.nextPageToken };
    }),
  };
  return {
    name: "facerec.internal.webhooks.v1.WebhooksService",
    definition: WebhooksServiceService,
    implementation: service,
  };
}
