/**
 * The webhooks part of the people process: the store and its gRPC service, the dispatcher that
 * sends deliveries, and the two event sources (ingest's sightings, the keys service's audit log).
 */
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { Connection } from "mongoose";
import type { AuditTrail } from "../audit-trail.ts";
import type { PeopleConfig } from "../config.ts";
import type { WebhookMetrics } from "../metrics.ts";
import type { PeopleModels } from "../models.ts";
import { WebhookDispatcher } from "./dispatcher.ts";
import { ExpiringKeySource } from "./expiring-key-source.ts";
import { webhookBindings } from "./grpc-handlers.ts";
import { webhookModels } from "./models.ts";
import { SightingSource } from "./sighting-source.ts";
import { WebhookUrlPolicy } from "./url-policy.ts";
import { Webhooks } from "./webhooks.ts";

export type WebhooksConfig = Pick<
  PeopleConfig,
  | "KEYS_ADDR"
  | "INGEST_ADDR"
  | "WEBHOOK_ALLOW_PRIVATE"
  | "WEBHOOK_TIMEOUT_MS"
  | "WEBHOOK_RETRY_BASE_MS"
  | "WEBHOOK_RETRY_MAX_MS"
  | "WEBHOOK_RETRY_WINDOW_MS"
  | "WEBHOOK_POLL_MS"
  | "WEBHOOK_SCAN_MS"
>;

/** How far behind its cursor a source reads again (capture-time latency, clock skew, replicas' order). */
const SIGHTINGS_OVERLAP_MS = 5 * 60_000;
const AUDIT_OVERLAP_MS = 2 * 60_000;

export async function startWebhooks(deps: {
  config: WebhooksConfig;
  connection: Connection;
  people: PeopleModels["people"];
  audit: AuditTrail;
  log: Logger;
  metrics: WebhookMetrics;
}): Promise<{ binding: ServiceBinding; start(): void; close(): Promise<void> }> {
  const { config, log } = deps;
  const models = await webhookModels(deps.connection);
  const policy = new WebhookUrlPolicy({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE });
  if (config.WEBHOOK_ALLOW_PRIVATE)
    log.warn("WEBHOOK_ALLOW_PRIVATE=true: webhooks may call http and private addresses (development only)");
  const dispatcher = new WebhookDispatcher({
    models,
    policy,
    log,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    metrics: deps.metrics,
    retry: {
      baseMs: config.WEBHOOK_RETRY_BASE_MS,
      maxMs: config.WEBHOOK_RETRY_MAX_MS,
      windowMs: config.WEBHOOK_RETRY_WINDOW_MS,
    },
  });
  const webhooks = new Webhooks({ models, policy, audit: deps.audit, onEnqueued: () => dispatcher.wake() });
  const ingest = internalClient(IngestQueryServiceClient, config.INGEST_ADDR);
  const auditClient = internalClient(AuditServiceClient, config.KEYS_ADDR);
  const keys = internalClient(KeysServiceClient, config.KEYS_ADDR);
  const sightings = new SightingSource({
    ingest,
    models,
    people: deps.people,
    webhooks,
    log,
    scanMs: config.WEBHOOK_SCAN_MS,
    overlapMs: SIGHTINGS_OVERLAP_MS,
    refreshMs: config.WEBHOOK_SCAN_MS,
  });
  const expiring = new ExpiringKeySource({
    audit: auditClient,
    keys,
    models,
    webhooks,
    log,
    pollMs: config.WEBHOOK_SCAN_MS,
    overlapMs: AUDIT_OVERLAP_MS,
  });
  const binding = webhookBindings({
    webhooks,
    log,
    onChange: () => {
      void sightings.refresh();
      expiring.poll();
    },
  });
  return {
    binding,
    start() {
      dispatcher.start();
      sightings.start();
      expiring.start();
    },
    async close() {
      sightings.stop();
      await expiring.stop();
      await dispatcher.stop();
      for (const client of [ingest, auditClient, keys]) client.close();
    },
  };
}
