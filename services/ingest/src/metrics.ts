/** Prometheus metrics of the ingest service, served at /metrics on INGEST_METRICS_PORT when it is set. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What the metrics read of the gallery this process matches against. */
interface FollowedGallery {
  readonly gallery: { readonly size: number };
  readonly synced: boolean;
}

export function createIngestMetrics(followed: FollowedGallery) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "facerec_ingest_gallery_faces",
    help: "Face embeddings in the gallery this process matches against, every tenant and model",
    registers: [registry],
    collect() {
      this.set(followed.gallery.size);
    },
  });
  new Gauge({
    name: "facerec_ingest_gallery_synced",
    help: "1 while subscribed to the people service's gallery and current, else 0 (new faces are not matched)",
    registers: [registry],
    collect() {
      this.set(followed.synced ? 1 : 0);
    },
  });
  return {
    registry,
    batches: new Counter({
      name: "facerec_ingest_batches_total",
      help: "Batches answered, by outcome (stored, duplicate, rejected)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    observations: new Counter({
      name: "facerec_ingest_observations_stored_total",
      help: "Observations written to the database",
      registers: [registry],
    }),
    openStreams: new Gauge({
      name: "facerec_ingest_open_streams",
      help: "StreamFaces calls open now",
      registers: [registry],
    }),
    streamsEnded: new Counter({
      name: "facerec_ingest_streams_ended_total",
      help: "StreamFaces calls ended or refused by the server, by error code (ok for a clean end)",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: "facerec_ingest_ack_latency_seconds",
      help: "From receiving a batch to sending its ack",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
