/**
 * Who is streaming: per tenant and worker id, the key, site, camera and address of its latest
 * stream, how many streams it has open, when it last sent a batch and how many observations it sent
 * in the last minute.
 *
 * Live state is in memory on the replica holding the streams; every WORKER_HEARTBEAT_MS each replica
 * writes its rows to `ingest_worker_presence`, so ListWorkers on any replica sees every replica's
 * workers, and workers seen recently stay listed after they disconnect or their replica dies.
 */
import type { WorkerStatus } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { IngestModels, WorkerPresenceDoc } from "./models.ts";

/** Disconnected workers stay listed this long. */
export const RECENTLY_SEEN_MS = 24 * 60 * 60 * 1000;
/**
 * Rows per bulkWrite. FerretDB 1.24/SQLite hangs for good on one bulkWrite of 100 or more upserts of
 * existing documents (each holds a pool connection while waiting for one more), so a heartbeat of
 * 1,000 workers goes out as sequential writes far below that, leaving room for whatever else the
 * database is serving at the same time.
 */
export const PRESENCE_WRITE_CHUNK = 25;
const RATE_WINDOW_MS = 60_000;
const RATE_BUCKET_MS = 5_000;

/** A stream, as far as the registry cares. */
export interface StreamIdentity {
  id: string;
  tenantId: string;
  keyId: string;
  keyName: string;
  remoteAddress: string;
  openedAt: Date;
}

/** Observations per minute from 5-second buckets: constant memory, at most 5 s stale. */
class MinuteRate {
  readonly #buckets = new Map<number, number>();

  add(count: number, now: number): void {
    const slot = Math.floor(now / RATE_BUCKET_MS);
    this.#buckets.set(slot, (this.#buckets.get(slot) ?? 0) + count);
    this.#prune(now);
  }

  total(now: number): number {
    this.#prune(now);
    let sum = 0;
    for (const count of this.#buckets.values()) sum += count;
    return sum;
  }

  #prune(now: number): void {
    const oldest = Math.floor((now - RATE_WINDOW_MS) / RATE_BUCKET_MS);
    for (const slot of this.#buckets.keys()) if (slot <= oldest) this.#buckets.delete(slot);
  }
}

interface WorkerEntry {
  tenantId: string;
  workerId: string;
  keyId: string;
  keyName: string;
  siteId: string;
  cameraId: string;
  remoteAddress: string;
  /** Open streams attributed to this worker, with when each opened. */
  streams: Map<string, Date>;
  lastBatchAt: Date | null;
  lastSeenAt: Date;
  /** How the last stream ended, once none is open (see WorkerStatus.disconnect_reason). */
  disconnectReason: string;
  rate: MinuteRate;
}

export class WorkerRegistry {
  readonly #presence: IngestModels["workerPresence"];
  readonly #replicaId: string;
  readonly #heartbeatMs: number;
  readonly #log: Logger;
  readonly #workers = new Map<string, WorkerEntry>();
  /** Which worker each stream's batches came from; a stream is attributed at its first batch. */
  readonly #workerOfStream = new Map<string, string>();
  /** Entries changed since the last heartbeat, or still connected. */
  readonly #dirty = new Set<string>();
  #heartbeats: Repeating | undefined;

  constructor(opts: { models: IngestModels; replicaId: string; heartbeatMs: number; log: Logger }) {
    this.#presence = opts.models.workerPresence;
    this.#replicaId = opts.replicaId;
    this.#heartbeatMs = opts.heartbeatMs;
    this.#log = opts.log;
  }

  start(): void {
    this.#heartbeats = repeat(() => this.flush(), {
      everyMs: this.#heartbeatMs,
      onError: (err) => this.#log.warn({ err }, "worker heartbeat failed; retrying"),
    });
  }

  async stop(): Promise<void> {
    await this.#heartbeats?.stop();
    await this.flush().catch((err: unknown) => this.#log.warn({ err }, "final worker heartbeat failed"));
  }

  recordBatch(
    stream: StreamIdentity,
    batch: { workerId: string; siteId: string; cameraId: string },
    observations: number,
    at: Date,
  ): void {
    const key = `${stream.tenantId}:${batch.workerId}`;
    const previous = this.#workerOfStream.get(stream.id);
    if (previous !== key) {
      if (previous) this.#detach(stream.id, previous, "worker_id_changed");
      this.#workerOfStream.set(stream.id, key);
    }
    const entry: WorkerEntry = this.#workers.get(key) ?? {
      tenantId: stream.tenantId,
      workerId: batch.workerId,
      keyId: stream.keyId,
      keyName: stream.keyName,
      siteId: batch.siteId,
      cameraId: batch.cameraId,
      remoteAddress: stream.remoteAddress,
      streams: new Map(),
      lastBatchAt: at,
      lastSeenAt: at,
      disconnectReason: "",
      rate: new MinuteRate(),
    };
    entry.keyId = stream.keyId;
    entry.keyName = stream.keyName;
    entry.siteId = batch.siteId;
    entry.cameraId = batch.cameraId;
    entry.remoteAddress = stream.remoteAddress;
    entry.lastBatchAt = at;
    entry.lastSeenAt = at;
    entry.disconnectReason = "";
    entry.streams.set(stream.id, stream.openedAt);
    entry.rate.add(observations, at.getTime());
    this.#workers.set(key, entry);
    this.#dirty.add(key);
  }

  /** `reason`: how it ended, shown for the worker once it has no open stream. */
  streamClosed(streamId: string, reason: string): void {
    const key = this.#workerOfStream.get(streamId);
    if (!key) return;
    this.#workerOfStream.delete(streamId);
    this.#detach(streamId, key, reason);
  }

  /** Writes this replica's rows: connected workers (a heartbeat) and workers that changed since the last flush. */
  async flush(now = new Date()): Promise<void> {
    for (const [key, entry] of this.#workers) {
      if (entry.streams.size === 0) continue;
      entry.lastSeenAt = now;
      this.#dirty.add(key);
    }
    if (this.#dirty.size === 0) return;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const rows = keys.flatMap((key) => {
      const entry = this.#workers.get(key);
      return entry ? [this.#toRow(entry, now)] : [];
    });
    for (let start = 0; start < rows.length; start += PRESENCE_WRITE_CHUNK) {
      const chunk = rows.slice(start, start + PRESENCE_WRITE_CHUNK);
      try {
        await this.#presence.bulkWrite(
          chunk.map((row) => ({ replaceOne: { filter: { _id: row._id }, replacement: row, upsert: true } })),
          { ordered: false },
        );
      } catch (err) {
        // Rows from this chunk on are written again at the next heartbeat.
        for (const key of keys) this.#dirty.add(key);
        throw err;
      }
    }
    // Disconnected workers, once written, live only in the database (unless they came back meanwhile).
    for (const key of keys) {
      const entry = this.#workers.get(key);
      if (entry && entry.streams.size === 0 && !this.#dirty.has(key)) this.#workers.delete(key);
    }
  }

  /** The tenant's connected and recently seen workers, across replicas, most recently seen first. */
  async list(tenantId: string, now = Date.now()): Promise<WorkerStatus[]> {
    const stored = await this.#presence
      .find({ tenantId, lastSeenAt: { $gte: new Date(now - RECENTLY_SEEN_MS) } })
      .lean<WorkerPresenceDoc[]>();
    const live = [...this.#workers.values()]
      .filter((entry) => entry.tenantId === tenantId)
      .map((entry) => this.#toRow(entry, new Date(now)));
    const liveIds = new Set(live.map((row) => row._id));
    const rows = [...stored.filter((row) => !liveIds.has(row._id)), ...live];
    // A replica that stopped heart-beating (it died) no longer vouches for its streams.
    const freshSince = now - 3 * this.#heartbeatMs;
    const byWorker = new Map<string, WorkerPresenceDoc[]>();
    for (const row of rows) byWorker.set(row.workerId, [...(byWorker.get(row.workerId) ?? []), row]);
    return [...byWorker.values()]
      .map((workerRows) => mergeRows(workerRows, freshSince))
      .sort((a, b) => b.lastSeenAt!.getTime() - a.lastSeenAt!.getTime());
  }

  /** Forgets rows of workers not seen since `cutoff` (the retention sweeper calls this). */
  async forgetSeenBefore(cutoff: Date): Promise<number> {
    const result = await this.#presence.deleteMany({ lastSeenAt: { $lt: cutoff } });
    return result.deletedCount;
  }

  #detach(streamId: string, key: string, reason: string): void {
    const entry = this.#workers.get(key);
    if (!entry) return;
    entry.streams.delete(streamId);
    if (entry.streams.size === 0) entry.disconnectReason = reason;
    entry.lastSeenAt = new Date();
    this.#dirty.add(key);
  }

  #toRow(entry: WorkerEntry, now: Date): WorkerPresenceDoc {
    const opened = [...entry.streams.values()].map((d) => d.getTime());
    return {
      _id: `${this.#replicaId}:${entry.tenantId}:${entry.workerId}`,
      replicaId: this.#replicaId,
      tenantId: entry.tenantId,
      workerId: entry.workerId,
      keyId: entry.keyId,
      keyName: entry.keyName,
      siteId: entry.siteId,
      cameraId: entry.cameraId,
      remoteAddress: entry.remoteAddress,
      streamCount: entry.streams.size,
      disconnectReason: entry.disconnectReason,
      connectedSince: opened.length > 0 ? new Date(Math.min(...opened)) : null,
      lastBatchAt: entry.lastBatchAt,
      lastSeenAt: entry.lastSeenAt,
      observationsPerMinute: entry.rate.total(now.getTime()),
      heartbeatAt: now,
    };
  }
}

function mergeRows(rows: WorkerPresenceDoc[], freshSince: number): WorkerStatus {
  const latest = rows.reduce((a, b) => (b.lastSeenAt > a.lastSeenAt ? b : a));
  const live = rows.filter((row) => row.streamCount > 0 && row.heartbeatAt.getTime() >= freshSince);
  const times = (values: (Date | null | undefined)[]) =>
    values.filter((v): v is Date => v instanceof Date).map((d) => d.getTime());
  const since = times(live.map((row) => row.connectedSince));
  const batches = times(rows.map((row) => row.lastBatchAt));
  return {
    workerId: latest.workerId,
    keyId: latest.keyId,
    keyName: latest.keyName,
    siteId: latest.siteId ?? "",
    cameraId: latest.cameraId ?? "",
    remoteAddress: latest.remoteAddress ?? "",
    connected: live.length > 0,
    connectedSince: since.length > 0 ? new Date(Math.min(...since)) : undefined,
    lastBatchAt: batches.length > 0 ? new Date(Math.max(...batches)) : undefined,
    lastSeenAt: latest.lastSeenAt,
    observationsPerMinute: live.reduce((sum, row) => sum + row.observationsPerMinute, 0),
    streamCount: live.reduce((sum, row) => sum + row.streamCount, 0),
    disconnectReason: live.length > 0 ? "" : (latest.disconnectReason ?? ""),
  };
}
