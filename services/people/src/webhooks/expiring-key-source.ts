/**
 * Finds the `api_key.expiring` events the keys service records in the audit log (once per key and
 * expiration date, a day-granular warning), for `api_key.expiring` webhooks. Per tenant with such a
 * webhook, every `pollMs`, ListAuditEvents is read newest first back to the tenant's cursor less
 * `overlapMs` (events recorded by several keys replicas need not arrive in time order); the cursor
 * then moves to the newest event seen. A delivery's id is derived from the audit event's id, so an
 * event read twice is delivered once.
 */
import type { AuditEvent, AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { WebhookModels } from "./models.ts";
import { systemActor } from "./sighting-source.ts";
import type { Webhooks } from "./webhooks.ts";

const SOURCE = "audit";
const MAX_PAGES = 50;

export class ExpiringKeySource {
  readonly #audit: AuditServiceClient;
  readonly #keys: KeysServiceClient;
  readonly #models: WebhookModels;
  readonly #webhooks: Webhooks;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #overlapMs: number;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = true;

  constructor(deps: {
    audit: AuditServiceClient;
    keys: KeysServiceClient;
    models: WebhookModels;
    webhooks: Webhooks;
    log: Logger;
    pollMs: number;
    overlapMs: number;
  }) {
    this.#audit = deps.audit;
    this.#keys = deps.keys;
    this.#models = deps.models;
    this.#webhooks = deps.webhooks;
    this.#log = deps.log;
    this.#pollMs = deps.pollMs;
    this.#overlapMs = deps.overlapMs;
  }

  start(): void {
    this.#stopped = false;
    this.poll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  /** Reads every subscribed tenant's new events now (also called when webhooks change). */
  poll(): void {
    if (this.#stopped || this.#polling) return;
    clearTimeout(this.#timer);
    this.#polling = this.#pollOnce()
      .catch((err: unknown) => this.#log.info({ err }, "audit log read for webhooks failed; retrying"))
      .finally(() => {
        this.#polling = undefined;
        if (!this.#stopped) this.#timer = setTimeout(() => this.poll(), this.#pollMs);
      });
  }

  async #pollOnce(): Promise<void> {
    const tenants = await this.#webhooks.subscribedTenants("api_key.expiring");
    for (const [tenantId, firstCreatedAt] of tenants) {
      const id = `${SOURCE}:${tenantId}`;
      await this.#models.cursors.updateOne(
        { _id: id },
        { $setOnInsert: { syncedTo: firstCreatedAt } },
        { upsert: true },
      );
      const cursor = await this.#models.cursors.findById(id).lean<{ syncedTo: Date }>();
      const from = new Date(cursor!.syncedTo.getTime() - this.#overlapMs);
      let newest = cursor!.syncedTo;
      let pageToken = "";
      for (let page = 0; page < MAX_PAGES; page++) {
        const response = await callUnary(this.#audit.listAuditEvents.bind(this.#audit), {
          actor: systemActor(tenantId),
          pageSize: 200,
          pageToken,
        });
        const events = response.auditEvents.filter((e) => e.occurredAt && e.occurredAt >= from);
        for (const event of events) {
          if (event.occurredAt! > newest) newest = event.occurredAt!;
          if (event.action === "api_key.expiring") await this.#announce(tenantId, event);
        }
        pageToken = response.nextPageToken;
        // Newest first: a page that reached past `from` is the last one needed.
        if (!pageToken || events.length < response.auditEvents.length) break;
      }
      await this.#models.cursors.updateOne(
        { _id: id, syncedTo: { $lt: newest } },
        { $set: { syncedTo: newest } },
      );
    }
  }

  async #announce(tenantId: string, event: AuditEvent): Promise<void> {
    const expiresAt = event.changes.find((c) => c.field === "expiresAt")?.newValue || null;
    // The key's name and prefix, when it still exists (it may have been deleted since).
    const apiKey = await callUnary(this.#keys.getApiKey.bind(this.#keys), {
      actor: systemActor(tenantId),
      id: event.targetId,
    }).then(
      (r) => r.apiKey,
      () => undefined,
    );
    await this.#webhooks.enqueue(
      {
        type: "api_key.expiring",
        tenantId,
        sourceId: event.id,
        occurredAt: event.occurredAt!,
        data: {
          apiKey: {
            id: event.targetId,
            name: apiKey?.name ?? null,
            prefix: apiKey?.prefix ?? null,
            expiresAt,
          },
        },
      },
      event.occurredAt!,
    );
  }
}
