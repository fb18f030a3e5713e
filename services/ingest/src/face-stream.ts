/**
 * One authenticated StreamFaces call. Each batch is validated, written, and acknowledged in the
 * order it arrived, only after its write succeeded.
 *
 * Flow control both ways, so memory per stream stays bounded whatever the client does:
 * - at most `maxInFlight` batches are being validated, written or acknowledged; at that limit the
 *   server stops reading (gRPC then stops granting the client HTTP/2 window);
 * - when the client stops reading acks, `write` reports a full buffer and nothing more is written
 *   or read until it drains.
 * The stream ends with UNAUTHENTICATED at its token's expiry or its key's revocation, and with
 * UNAVAILABLE when the database fails (nothing unwritten is acknowledged; the worker replays).
 */
import { once } from "node:events";
import type { FaceBatch, IngestAck } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { AppError, storageUnavailable, unauthenticated } from "@facerec/shared/errors.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { TokenClaims } from "@facerec/shared/tokens/claims.ts";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { rejectedAck, rejection, validateBatch } from "./batch-validation.ts";
import type { EventStore } from "./event-store.ts";
import type { KeyUseRecorder } from "./key-use.ts";
import type { IngestMetrics } from "./metrics.ts";
import type { ClosableStream } from "./open-streams.ts";
import { batchScopeRejection } from "./stream-auth.ts";
import type { StreamIdentity, WorkerRegistry } from "./worker-registry.ts";

/** setTimeout's limit; tokens live far shorter, but a far-future `exp` must not fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The worker list's words for a stream the client ended, or whose call went away. */
const DISCONNECT_REASONS: Record<string, string> = { ok: "worker_closed", cancelled: "connection_lost" };

export interface FaceStreamDeps {
  store: EventStore;
  registry: WorkerRegistry;
  keyUse: KeyUseRecorder;
  metrics: IngestMetrics;
  log: Logger;
  retentionMs: number;
  maxInFlight: number;
}

type Outcome = { ack: IngestAck } | { failure: unknown };
type BatchSource = Pick<FaceBatch, "workerId" | "siteId" | "cameraId">;

export class FaceStream implements ClosableStream {
  readonly keyId: string;
  readonly issuedAt: number;
  readonly #call: ServerDuplexStream<FaceBatch, IngestAck>;
  readonly #claims: TokenClaims;
  readonly #identity: StreamIdentity;
  readonly #deps: FaceStreamDeps;
  readonly #log: Logger;
  /** Batches received and not yet acknowledged, in arrival order. */
  readonly #pending: { receivedAt: number; source: BatchSource; outcome: Promise<Outcome> }[] = [];
  readonly #closed = new AbortController();
  #flushing = false;
  #clientDone = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #release: () => void = () => {};
  #finished = false;
  /** Batch id → the write of its latest copy on this stream, while in flight. */
  readonly #writing = new Map<string, Promise<Outcome>>();

  constructor(call: ServerDuplexStream<FaceBatch, IngestAck>, claims: TokenClaims, deps: FaceStreamDeps) {
    this.#call = call;
    this.#claims = claims;
    this.#deps = deps;
    this.keyId = claims.sub;
    this.issuedAt = claims.iat;
    this.#identity = {
      id: crypto.randomUUID(),
      tenantId: claims.tid,
      keyId: claims.sub,
      keyName: claims.name,
      // getPeer() is `address:port`; the port says nothing about the worker.
      remoteAddress: call.getPeer().replace(/:\d+$/, ""),
      openedAt: new Date(),
    };
    this.#log = deps.log.child({ stream: this.#identity.id, tenantId: claims.tid, keyId: claims.sub });
  }

  /** Starts reading batches; `release` runs once when the stream is over, however it ends. */
  start(release: () => void): void {
    this.#release = release;
    const call = this.#call;
    this.#deps.metrics.openStreams.inc();
    call.on("close", () => {
      this.#closed.abort();
      this.#finish(call.cancelled ? "cancelled" : "ok");
    });
    if (call.destroyed) {
      this.#finish("cancelled");
      return;
    }
    call.on("data", (batch: FaceBatch) => this.#receive(batch));
    call.on("end", () => {
      this.#clientDone = true;
      void this.#flush();
    });
    const untilExpiry = this.#claims.exp * 1000 - Date.now();
    this.#expiryTimer = setTimeout(
      () =>
        this.close(
          unauthenticated(
            "token_expired",
            "the stream's token expired; open a new stream with a fresh token",
          ),
        ),
      Math.min(Math.max(untilExpiry, 0), MAX_TIMER_MS),
    );
    this.#log.debug("stream opened");
  }

  /** Ends the stream with `error` now; batches not yet acknowledged are left for the worker to replay. */
  close(error: AppError, reason = error.code): void {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#call.pause();
    this.#log.info({ code: error.code }, "closing stream");
    // grpc-js sends this status after the acks already written (it ends the call on "error").
    if (!this.#call.writableEnded && !this.#call.destroyed) this.#call.emit("error", error.toServiceError());
    this.#finish(error.code, reason);
  }

  #receive(batch: FaceBatch): void {
    if (this.#closed.signal.aborted) return;
    const source = { workerId: batch.workerId, siteId: batch.siteId, cameraId: batch.cameraId };
    // A batch sent again while its first copy is still being written (a pipelined replay) waits for
    // that write, so the acks say "stored", then "duplicate", in the order the batches were sent.
    const earlier = this.#writing.get(batch.batchId);
    const outcome = earlier ? earlier.then(() => this.#store(batch)) : this.#store(batch);
    this.#writing.set(batch.batchId, outcome);
    void outcome.then(() => {
      if (this.#writing.get(batch.batchId) === outcome) this.#writing.delete(batch.batchId);
    });
    this.#pending.push({ receivedAt: performance.now(), source, outcome });
    if (this.#pending.length >= this.#deps.maxInFlight) this.#call.pause();
    void this.#flush();
  }

  /** Never rejects: a rejected promise waiting in #pending would be an unhandled rejection. */
  async #store(batch: FaceBatch): Promise<Outcome> {
    const { store, retentionMs } = this.#deps;
    const refused =
      validateBatch(batch, { now: Date.now(), retentionMs }) ?? batchScopeRejection(this.#claims, batch);
    if (refused) return { ack: rejectedAck(batch.batchId, refused) };
    try {
      const stored = await store.insertBatch(
        { tenantId: this.#claims.tid, keyId: this.#claims.sub },
        batch,
        new Date(),
      );
      if (stored.conflict) {
        const conflict = rejection(
          "batch_id_conflict",
          "batch_id",
          `${batch.batchId} was stored before with different content, and nothing of this batch was stored; send this content under a new batch_id`,
        );
        return { ack: rejectedAck(batch.batchId, conflict) };
      }
      return {
        ack: {
          batchId: batch.batchId,
          accepted: stored.accepted,
          duplicate: stored.duplicate,
          rejected: false,
          error: "",
          reason: "",
          violations: [],
        },
      };
    } catch (failure) {
      return { failure };
    }
  }

  /** Writes acks in arrival order as their batches complete; one loop at a time. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    const { metrics, registry, maxInFlight } = this.#deps;
    try {
      while (this.#pending.length > 0 && !this.#closed.signal.aborted) {
        const head = this.#pending[0]!;
        const outcome = await head.outcome;
        if (this.#closed.signal.aborted) return;
        if ("failure" in outcome) {
          this.#log.warn({ err: outcome.failure }, "storing a batch failed; ending the stream");
          this.close(storageUnavailable("the batch could not be stored; replay it on a new stream"));
          return;
        }
        this.#pending.shift();
        const { ack } = outcome;
        metrics.batches.inc({ outcome: ack.rejected ? "rejected" : ack.duplicate ? "duplicate" : "stored" });
        metrics.observations.inc(ack.accepted);
        metrics.ackLatency.observe((performance.now() - head.receivedAt) / 1000);
        // Here rather than when the write completes: writes finish out of order, acks do not, and
        // the registry's "latest site and camera" must be the latest batch sent.
        if (!ack.rejected) {
          registry.recordBatch(this.#identity, head.source, ack.accepted, new Date());
          this.#deps.keyUse.note({
            keyId: this.#identity.keyId,
            tenantId: this.#identity.tenantId,
            workerId: head.source.workerId,
            remoteAddress: this.#identity.remoteAddress,
            observations: ack.accepted,
          });
        }
        if (!this.#call.write(ack)) await once(this.#call, "drain", { signal: this.#closed.signal });
        if (this.#pending.length < maxInFlight) this.#call.resume();
      }
      if (this.#clientDone && this.#pending.length === 0 && !this.#closed.signal.aborted) this.#call.end();
    } catch (err) {
      // The drain wait throws when the stream was closed meanwhile (nothing to do) or errored.
      if (!this.#closed.signal.aborted) {
        this.#log.warn({ err }, "stream failed while writing acks");
        this.close(new AppError(status.INTERNAL, "internal", "the stream failed; open a new one"));
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** `code` counts the ending in metrics; `reason` is what the worker list shows (a client's "ok" reads as worker_closed). */
  #finish(code: string, reason = code): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#expiryTimer);
    this.#release();
    this.#deps.registry.streamClosed(this.#identity.id, DISCONNECT_REASONS[reason] ?? reason);
    this.#deps.metrics.openStreams.dec();
    this.#deps.metrics.streamsEnded.inc({ code });
    this.#log.debug({ code }, "stream ended");
  }
}
