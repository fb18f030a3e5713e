/** The webhooks' collections (in the people service's database; only this folder reads or writes them). */
import { type Connection, type InferSchemaType, Schema } from "mongoose";

export const WEBHOOK_EVENT_TYPES = ["sighting.started", "api_key.expiring"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const webhookSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    url: { type: String, required: true },
    description: { type: String, default: "" },
    eventTypes: { type: [String], enum: WEBHOOK_EVENT_TYPES, required: true },
    /** sighting.started only for people on the watchlist. */
    watchlistOnly: { type: Boolean, default: false },
    /**
     * The signing secret. Kept as is, unlike API keys' hashes: signing needs it. It leaves this
     * service once, in CreateWebhook's answer.
     */
    secret: { type: String, required: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: "webhooks", versionKey: false },
);
webhookSchema.index({ tenantId: 1, createdAt: -1, _id: -1 });

/**
 * One event for one webhook. Written before the first attempt, so what was written is delivered
 * even if the process dies; its _id is derived from the webhook and the event, so the replicas
 * (and a rescan of the same sightings) that find the same event write it once.
 */
const deliverySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    webhookId: { type: String, required: true },
    /** Stable per event (the same for every webhook it goes to): the Facerec-Event-Id header. */
    eventId: { type: String, required: true },
    eventType: { type: String, enum: WEBHOOK_EVENT_TYPES, required: true },
    /** The exact body every attempt sends (and signs). */
    payload: { type: String, required: true },
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    attempts: { type: Number, default: 0 },
    /** When the next attempt is due (pending), or null once settled. An attempt under way pushes it past its timeout. */
    nextAttemptAt: { type: Date, default: null },
    lastAttemptAt: { type: Date, default: null },
    /** HTTP status of the last answer; 0 when there was none (refused, timed out, unreachable). */
    lastStatusCode: { type: Number, default: 0 },
    /** The start of the last answer's body, or why there was no answer. */
    lastResponseExcerpt: { type: String, default: "" },
    createdAt: { type: Date, required: true },
    settledAt: { type: Date, default: null },
  },
  { collection: "webhook_deliveries", versionKey: false },
);
deliverySchema.index({ status: 1, nextAttemptAt: 1 });
deliverySchema.index({ webhookId: 1, createdAt: -1, _id: -1 });
deliverySchema.index({ settledAt: 1 });

/** How far a source (one tenant's sightings or audit log) has been read for webhooks. */
const cursorSchema = new Schema(
  {
    /** `<source>:<tenantId>`. */
    _id: { type: String, required: true },
    syncedTo: { type: Date, required: true },
  },
  { collection: "webhook_cursors", versionKey: false },
);

export type WebhookDoc = InferSchemaType<typeof webhookSchema> & { _id: string };
export type DeliveryDoc = InferSchemaType<typeof deliverySchema> & { _id: string };

export async function webhookModels(connection: Connection) {
  const models = {
    webhooks: connection.model("Webhook", webhookSchema),
    deliveries: connection.model("WebhookDelivery", deliverySchema),
    cursors: connection.model("WebhookCursor", cursorSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}

export type WebhookModels = Awaited<ReturnType<typeof webhookModels>>;
