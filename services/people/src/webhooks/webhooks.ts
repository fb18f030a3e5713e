/**
 * A tenant's webhooks: registration (admins; audited), listing, and the fan-out of an event to the
 * webhooks that want it, as delivery records the dispatcher then sends.
 */
import { createHash } from "node:crypto";
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { onlyDuplicateKeys } from "@facerec/shared/db/duplicate-key.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { AppError, invalidArgument, notFound } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";
import type { mongo } from "mongoose";
import type { AuditTrail } from "../audit-trail.ts";
import {
  type DeliveryDoc,
  WEBHOOK_EVENT_TYPES,
  type WebhookDoc,
  type WebhookEventType,
  type WebhookModels,
} from "./models.ts";
import { newWebhookSecret } from "./signature.ts";
import type { WebhookUrlPolicy } from "./url-policy.ts";

/** Per tenant: enough for every integration a site runs, few enough to fan out to on every event. */
export const MAX_WEBHOOKS_PER_TENANT = 20;
const MAX_DESCRIPTION_LENGTH = 500;
/** FerretDB 1.24 can hang on large bulk writes: deliveries are inserted this many at a time. */
const INSERT_CHUNK = 25;

/** An event as the sources find it, before it is addressed to webhooks. */
export interface WebhookEvent {
  type: WebhookEventType;
  tenantId: string;
  /** What the event is about (a sighting id, an audit event id): with type and tenant, its identity. */
  sourceId: string;
  occurredAt: Date;
  data: Record<string, unknown>;
  /** For sighting.started: whether the person seen is on the watchlist (watchlistOnly webhooks). */
  watchlisted?: boolean;
}

/** The stable id of an event, the same for every webhook and every replica that finds it. */
export function eventIdOf(event: Pick<WebhookEvent, "type" | "tenantId" | "sourceId">): string {
  const digest = createHash("sha256").update(`${event.type}\n${event.tenantId}\n${event.sourceId}`);
  return `evt_${digest.digest("base64url").slice(0, 24)}`;
}

function deliveryIdOf(webhookId: string, eventId: string): string {
  return `dlv_${createHash("sha256").update(`${webhookId}\n${eventId}`).digest("base64url").slice(0, 24)}`;
}

export interface CreateWebhookInput {
  url: string;
  eventTypes: string[];
  watchlistOnly: boolean;
  description: string;
}

export class Webhooks {
  readonly #models: WebhookModels;
  readonly #policy: WebhookUrlPolicy;
  readonly #audit: AuditTrail;
  /** Told when deliveries were written, so they go out at once rather than at the next poll. */
  readonly #onEnqueued: () => void;

  constructor(deps: {
    models: WebhookModels;
    policy: WebhookUrlPolicy;
    audit: AuditTrail;
    onEnqueued?: () => void;
  }) {
    this.#models = deps.models;
    this.#policy = deps.policy;
    this.#audit = deps.audit;
    this.#onEnqueued = deps.onEnqueued ?? (() => {});
  }

  /** Registers a webhook; the answer carries its signing secret, which is never shown again. */
  async create(actor: Actor, input: CreateWebhookInput): Promise<{ webhook: WebhookDoc; secret: string }> {
    const eventTypes = [...new Set(input.eventTypes)];
    if (eventTypes.length === 0 || !eventTypes.every(isEventType))
      throw invalidArgument(
        "invalid_event_types",
        `eventTypes must be a non-empty subset of ${WEBHOOK_EVENT_TYPES.join(", ")}`,
      );
    if (input.watchlistOnly && !eventTypes.includes("sighting.started"))
      throw invalidArgument("invalid_watchlist_only", "watchlistOnly applies to sighting.started only");
    if (input.description.length > MAX_DESCRIPTION_LENGTH)
      throw invalidArgument(
        "invalid_description",
        `description must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
      );
    const url = await this.#policy.check(input.url);
    const count = await this.#models.webhooks.countDocuments({ tenantId: actor.tenantId });
    if (count >= MAX_WEBHOOKS_PER_TENANT)
      throw new AppError(
        status.RESOURCE_EXHAUSTED,
        "too_many_webhooks",
        `a tenant can have at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`,
      );
    const secret = newWebhookSecret();
    const webhook = (
      await this.#models.webhooks.create({
        _id: crypto.randomUUID(),
        tenantId: actor.tenantId,
        url,
        description: input.description,
        eventTypes,
        watchlistOnly: input.watchlistOnly,
        secret,
        createdAt: new Date(),
        createdBy: actor.displayName || actor.actorId,
      })
    ).toObject() as WebhookDoc;
    await this.#audit.record(actor, "webhook.created", { type: "webhook", id: webhook._id }, [
      { field: "url", oldValue: "", newValue: url },
      { field: "eventTypes", oldValue: "", newValue: eventTypes.join(",") },
      ...(input.watchlistOnly ? [{ field: "watchlistOnly", oldValue: "", newValue: "true" }] : []),
    ]);
    return { webhook, secret };
  }

  async list(actor: Actor): Promise<WebhookDoc[]> {
    return this.#models.webhooks
      .find({ tenantId: actor.tenantId })
      .sort({ createdAt: -1, _id: -1 })
      .lean<WebhookDoc[]>();
  }

  async get(actor: Actor, id: string): Promise<WebhookDoc> {
    const webhook = await this.#models.webhooks
      .findOne({ _id: id, tenantId: actor.tenantId })
      .lean<WebhookDoc>();
    if (!webhook) throw notFound("no such webhook");
    return webhook;
  }

  /** Removes a webhook and its deliveries (pending ones are not sent). */
  async remove(actor: Actor, id: string): Promise<void> {
    const webhook = await this.get(actor, id);
    await this.#models.webhooks.deleteOne({ _id: id, tenantId: actor.tenantId });
    await this.#models.deliveries.deleteMany({ webhookId: id });
    await this.#audit.record(actor, "webhook.deleted", { type: "webhook", id }, [
      { field: "url", oldValue: webhook.url, newValue: "" },
    ]);
  }

  /** One webhook's deliveries, newest first, keyset-paged. */
  async deliveries(actor: Actor, webhookId: string, requestedSize: number, pageToken: string) {
    await this.get(actor, webhookId);
    const size = clampPageSize(requestedSize, 20, 100);
    const rows = await this.#models.deliveries
      .find({ webhookId, tenantId: actor.tenantId, ...afterCursor("createdAt", pageToken) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(size + 1)
      .lean<DeliveryDoc[]>();
    return toPage(rows, size, (r) => r.createdAt);
  }

  /** The tenants with at least one webhook for `type`, and when the first of those was made. */
  async subscribedTenants(type: WebhookEventType): Promise<Map<string, Date>> {
    const rows = await this.#models.webhooks
      .find({ eventTypes: type }, { tenantId: 1, createdAt: 1 })
      .lean<Pick<WebhookDoc, "_id" | "tenantId" | "createdAt">[]>();
    const tenants = new Map<string, Date>();
    for (const row of rows) {
      const known = tenants.get(row.tenantId);
      if (!known || row.createdAt < known) tenants.set(row.tenantId, row.createdAt);
    }
    return tenants;
  }

  /**
   * Writes one delivery of `event` for each of its tenant's webhooks that want it and existed by
   * `createdBy` (a webhook gets the events that happen after it was made). A delivery written
   * before (by another replica, or an earlier scan) is kept as it is. Returns how many are new.
   */
  async enqueue(event: WebhookEvent, createdBy: Date): Promise<number> {
    const targets = (
      await this.#models.webhooks
        .find({ tenantId: event.tenantId, eventTypes: event.type })
        .lean<WebhookDoc[]>()
    ).filter(
      (w) =>
        w.createdAt.getTime() <= createdBy.getTime() &&
        !(event.type === "sighting.started" && w.watchlistOnly && !event.watchlisted),
    );
    if (targets.length === 0) return 0;
    const eventId = eventIdOf(event);
    const payload = JSON.stringify({
      id: eventId,
      type: event.type,
      createdAt: event.occurredAt.toISOString(),
      tenantId: event.tenantId,
      data: event.data,
    });
    const now = new Date();
    const docs = targets.map((w) => ({
      _id: deliveryIdOf(w._id, eventId),
      tenantId: event.tenantId,
      webhookId: w._id,
      eventId,
      eventType: event.type,
      payload,
      status: "pending",
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    }));
    let written = 0;
    for (let i = 0; i < docs.length; i += INSERT_CHUNK) {
      const chunk = docs.slice(i, i + INSERT_CHUNK);
      // The driver's own insertMany: its error lists exactly which documents were there already.
      // (Typed as the driver's Document: its OptionalId would ask for an ObjectId _id.)
      written += await this.#models.deliveries.collection
        .insertMany(chunk as unknown as mongo.Document[], { ordered: false })
        .then(
          (result) => result.insertedCount,
          (err: unknown) => {
            if (!onlyDuplicateKeys(err)) throw err;
            return chunk.length - [err.writeErrors].flat().length;
          },
        );
    }
    if (written > 0) this.#onEnqueued();
    return written;
  }
}

function isEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}
