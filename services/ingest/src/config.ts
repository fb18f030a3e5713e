import { DEFAULT_PORTS, parseConfig, port, serviceEnv } from "@facerec/shared/config.ts";
import { z } from "zod";

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const ingestConfigSchema = z.object({
  ...serviceEnv,
  /** Public port workers stream to (IngestService). */
  INGEST_PORT: port(DEFAULT_PORTS.ingest),
  /** Interface of the public port; workers on other machines must reach it. */
  INGEST_HOST: z.string().default("0.0.0.0"),
  /**
   * Internal port for the gateway's queries (IngestQueryService), bound to BIND_HOST. A port of its
   * own because that API trusts the tenant it is given: network policy can close a port, not an RPC.
   */
  INGEST_INTERNAL_PORT: port(DEFAULT_PORTS.ingest + 1),
  AUTH_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.auth}`),
  KEYS_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.keys}`),
  /** The people service, whose gallery (WatchGallery) every observation is matched against. */
  PEOPLE_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.people}`),
  /** Events captured longer ago than this are deleted, and refused at ingest. */
  EVENT_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  /** How often the retention sweeper runs. */
  RETENTION_SWEEP_INTERVAL_MS: positiveInt(60 * 60 * 1000),
  /** Open StreamFaces calls across all keys; more are refused with RESOURCE_EXHAUSTED. */
  INGEST_MAX_STREAMS: positiveInt(1000),
  /** Open StreamFaces calls per API key; a worker needs one, two while rotating its token. */
  INGEST_MAX_STREAMS_PER_KEY: positiveInt(8),
  /** Batches a stream may have received but not yet acknowledged; past it the server stops reading. */
  INGEST_MAX_IN_FLIGHT_PER_STREAM: positiveInt(8),
  /** How often a replica records its workers' state for ListWorkers on every replica. */
  WORKER_HEARTBEAT_MS: positiveInt(5000),
  /** Serve Prometheus metrics on this port at /metrics (BIND_HOST); unset disables it. */
  INGEST_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
export const loadIngestConfig = (env?: NodeJS.ProcessEnv) => parseConfig(ingestConfigSchema, env);
