/**
 * Prometheus metrics of the people service, served at /metrics on PEOPLE_METRICS_PORT when it is
 * set: webhook deliveries (what a receiver's outage looks like from here) and the gallery's size
 * (what memory and search time follow, see README "The gallery").
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The webhook dispatcher's figures. */
export function createWebhookMetrics(registry: Registry) {
  return {
    attempts: new Counter({
      name: "facerec_webhook_attempts_total",
      help: "Delivery attempts, by event type and answer: 2xx, 3xx, 4xx, 5xx, or none (no connection, no answer in time, address refused)",
      labelNames: ["event_type", "answer"] as const,
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: "facerec_webhook_attempt_duration_seconds",
      help: "From resolving the webhook's host to its answer (or giving up on one)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    settled: new Counter({
      name: "facerec_webhook_deliveries_settled_total",
      help: "Deliveries settled, by event type and status: succeeded, or failed once the retry window was over",
      labelNames: ["event_type", "status"] as const,
      registers: [registry],
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;

export function createPeopleMetrics(gallery: { readonly size: number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "facerec_people_gallery_faces",
    help: "Face embeddings in this replica's gallery, every tenant and model",
    registers: [registry],
    collect() {
      this.set(gallery.size);
    },
  });
  return { registry, webhooks: createWebhookMetrics(registry) };
}
