/**
 * The REST shapes of webhooks and their deliveries, and how the WebhooksService's messages become
 * them. Like schemas.ts: the same zod schemas validate and document.
 */
import {
  DeliveryStatus,
  type Webhook,
  type WebhookDelivery,
} from "@facerec/proto/facerec/internal/webhooks/v1/webhooks.ts";
import { z } from "zod";
import { problemSchema } from "./schemas.ts";

const timestamp = z.iso.datetime({ offset: true });
export const WEBHOOK_EVENT_TYPES = ["sighting.started", "api_key.expiring"] as const;
const eventType = z.enum(WEBHOOK_EVENT_TYPES);
const deliveryStatus = z.enum(["pending", "succeeded", "failed"]);

export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(eventType),
    watchlistOnly: z.boolean().meta({ description: "sighting.started only for people on the watchlist." }),
    createdAt: timestamp,
    createdBy: z.string(),
  })
  .meta({
    id: "Webhook",
    example: {
      id: "6b0d9a4e-2f7c-4d8e-9a51-0c3f6e2b7d10",
      url: "https://hooks.example.com/facerec",
      description: "Front desk alerts",
      eventTypes: ["sighting.started"],
      watchlistOnly: true,
      createdAt: "2026-01-05T09:00:00Z",
      createdBy: "admin@localhost",
    },
  });

export const createWebhookBody = z
  .strictObject({
    url: z.string().min(1).max(2048).meta({
      description:
        "https URL (http only where WEBHOOK_ALLOW_PRIVATE=true); its host must resolve to public addresses.",
    }),
    eventTypes: z.array(eventType).min(1).max(WEBHOOK_EVENT_TYPES.length),
    watchlistOnly: z
      .boolean()
      .optional()
      .meta({ description: "With sighting.started: only sightings of people on the watchlist." }),
    description: z.string().max(500).optional(),
  })
  .meta({
    example: {
      url: "https://hooks.example.com/facerec",
      eventTypes: ["sighting.started"],
      watchlistOnly: true,
      description: "Front desk alerts",
    },
  });

export const createWebhookResponse = z
  .object({
    webhook: webhookSchema,
    secret: z.string().meta({
      description:
        "The signing secret (`whsec_…`), shown only in this response: the HMAC-SHA-256 key of each delivery's `Facerec-Signature` header.",
    }),
  })
  .meta({ id: "CreatedWebhook" });

export const webhookResponse = z.object({ webhook: webhookSchema }).meta({ id: "WebhookResponse" });
export const webhookListResponse = z.object({ webhooks: z.array(webhookSchema) }).meta({ id: "WebhookList" });

export const webhookDeliverySchema = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z
      .string()
      .meta({ description: "The `Facerec-Event-Id` header and the body's `id`: dedupe on it." }),
    eventType,
    status: deliveryStatus,
    attempts: z.number().int(),
    createdAt: timestamp,
    lastAttemptAt: timestamp.nullable(),
    lastStatusCode: z
      .number()
      .int()
      .nullable()
      .meta({ description: "HTTP status of the last answer; null when there was none." }),
    lastResponseExcerpt: z
      .string()
      .meta({ description: "The start of the last answer's body, or why there was no answer." }),
    nextAttemptAt: timestamp.nullable().meta({ description: "While pending: when the next attempt is due." }),
  })
  .meta({
    id: "WebhookDelivery",
    example: {
      id: "dlv_Qm9vbGVhbiBzdHJpbmcgd2l0",
      webhookId: "6b0d9a4e-2f7c-4d8e-9a51-0c3f6e2b7d10",
      eventId: "evt_cGVyc29uIHNlZW4gYXQgY2Ft",
      eventType: "sighting.started",
      status: "pending",
      attempts: 2,
      createdAt: "2026-01-05T09:10:00Z",
      lastAttemptAt: "2026-01-05T09:11:01Z",
      lastStatusCode: 500,
      lastResponseExcerpt: "Internal Server Error",
      nextAttemptAt: "2026-01-05T09:13:00Z",
    },
  });

export const webhookDeliveryListResponse = z
  .object({ deliveries: z.array(webhookDeliverySchema), nextPageToken: z.string() })
  .meta({ id: "WebhookDeliveryList" });

export const deliveriesQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(100).optional(),
  pageToken: z.string().max(200).optional(),
});

/** The refusals of a webhook URL, as a documented response. */
export const webhookUrlProblem = {
  422: {
    description:
      "`webhook_url_not_allowed`: plain http, or a host that resolves to a loopback, private, link-local, unspecified or multicast address (IPv4 or IPv6, IPv4-mapped included); `webhook_host_not_found`: the host does not resolve",
    schema: problemSchema,
    contentType: "application/problem+json",
  },
};

const STATUS_NAMES: Partial<Record<DeliveryStatus, z.infer<typeof deliveryStatus>>> = {
  [DeliveryStatus.DELIVERY_STATUS_PENDING]: "pending",
  [DeliveryStatus.DELIVERY_STATUS_SUCCEEDED]: "succeeded",
  [DeliveryStatus.DELIVERY_STATUS_FAILED]: "failed",
};

export function presentWebhook(webhook: Webhook): z.infer<typeof webhookSchema> {
  return {
    id: webhook.id,
    url: webhook.url,
    description: webhook.description,
    eventTypes: webhook.eventTypes as z.infer<typeof eventType>[],
    watchlistOnly: webhook.watchlistOnly,
    createdAt: webhook.createdAt!.toISOString(),
    createdBy: webhook.createdBy,
  };
}

export function presentDelivery(delivery: WebhookDelivery): z.infer<typeof webhookDeliverySchema> {
  return {
    id: delivery.id,
    webhookId: delivery.webhookId,
    eventId: delivery.eventId,
    eventType: delivery.eventType as z.infer<typeof eventType>,
    status: STATUS_NAMES[delivery.status] ?? "pending",
    attempts: delivery.attempts,
    createdAt: delivery.createdAt!.toISOString(),
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    lastStatusCode: delivery.lastStatusCode || null,
    lastResponseExcerpt: delivery.lastResponseExcerpt,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
  };
}
