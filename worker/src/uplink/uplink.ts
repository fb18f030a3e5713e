// The worker's uplink: batches observations into the on-disk queue and keeps one authenticated
// StreamFaces stream open that sends every unacknowledged batch, oldest first. Delivery is
// at-least-once; the ingest service makes replays no-ops, so after any reconnect the whole queue is
// simply sent again. The stream is rotated before its token expires, and rebuilt with a fresh token
// after any UNAUTHENTICATED. An unusable key (the guide's 401 causes) stops streaming, is logged
// once with its fix, and is retried slowly until it works again. The log has one line per change of
// state (paused, waiting for the API, stream lost, streaming again), not one per retry.
import { randomUUID } from "node:crypto";
import {
  type FaceBatch,
  type FaceObservation,
  type IngestAck,
  IngestServiceClient,
} from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { type ClientDuplexStream, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { type BackoffPolicy, backoffDelay, sleep } from "../backoff.ts";
import type { FaceSink } from "../sink.ts";
import type { Telemetry } from "../telemetry.ts";
import type { DiskQueue } from "./disk-queue.ts";
import {
  ApiUnreachable,
  exchangeApiKey,
  type IngestToken,
  KeyRejected,
  keyExpiryWarning,
} from "./token-client.ts";

/** Batches sent but not yet acknowledged on one stream; the ingest service bounds it too. */
const MAX_IN_FLIGHT = 8;
const RECONNECT: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };
/** An unusable key is retried slowly: an operator has to act first. */
const KEY_REJECTED: BackoffPolicy = { initialMs: 5_000, maxMs: 60_000 };
/** How long a stream that is being replaced or shut down may take to collect outstanding acks. */
const DRAIN_MS = 3_000;

export interface UplinkOptions {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly tenantId: string;
  readonly workerId: string;
  readonly siteId: string;
  readonly cameraId: string;
  /** Overrides the token response's ingestEndpoint. */
  readonly ingestUrl: string | undefined;
  readonly batchMaxFaces: number;
  readonly batchMaxMs: number;
  readonly queue: DiskQueue;
  readonly telemetry: Telemetry;
  readonly log: Logger;
}

/** `grpc://host:port`, `grpcs://host:port` or `host:port` → channel target and credentials. */
function channelFor(endpoint: string) {
  const tls = endpoint.startsWith("grpcs://") || endpoint.startsWith("https://");
  const target = endpoint.replace(/^[a-z]+:\/\//, "").replace(/\/$/, "");
  return { target, creds: tls ? credentials.createSsl() : credentials.createInsecure() };
}

/** Time before expiry at which a token is replaced: a fifth of its life, at most a minute. */
const rotationLeadMs = (token: IngestToken, issuedAt: number) =>
  Math.min(60_000, (token.expiresAt - issuedAt) / 5);

export class Uplink implements FaceSink {
  readonly #o: UplinkOptions;
  readonly #closing = new AbortController();
  #pending: FaceObservation[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #token: { value: IngestToken; issuedAt: number } | undefined;
  /** When the last warning of the key's coming expiry was logged (tokens are exchanged every few minutes). */
  #keyExpiryWarnedAt: number | undefined;
  #loop: Promise<void> | undefined;
  /** The state last logged (see #announce), e.g. `streaming` or `paused:key_inactive`. */
  #state: string | undefined;

  constructor(options: UplinkOptions) {
    this.#o = options;
    this.#reportQueue();
  }

  /** Starts delivering (including whatever a previous run left in the queue). */
  start(): void {
    this.#loop ??= this.#run();
  }

  async send(observations: readonly FaceObservation[]): Promise<void> {
    this.#pending.push(...observations);
    while (this.#pending.length >= this.#o.batchMaxFaces) await this.#flush();
    if (this.#pending.length > 0 && !this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flush().catch((err: unknown) => this.#o.log.error({ err }, "could not queue a batch"));
      }, this.#o.batchMaxMs);
    }
  }

  /** Writes every buffered observation to the queue now, without waiting for BATCH_MAX_MS. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0) await this.#flush();
  }

  /**
   * Resolves once everything accepted so far has been acknowledged by the ingest service, or at
   * once when `signal` aborts (what is unacknowledged then stays queued on disk).
   */
  async drain(signal: AbortSignal): Promise<void> {
    await this.flush();
    while (this.#o.queue.depth > 0 && !signal.aborted) await sleep(100, signal);
  }

  /** Writes what is buffered to the queue and stops streaming; unacknowledged batches stay on disk. */
  async close(): Promise<void> {
    await this.flush();
    this.#closing.abort();
    await this.#loop;
    this.#o.telemetry.setStreamState("closed");
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const observations = this.#pending.splice(0, this.#o.batchMaxFaces);
    if (observations.length === 0) return;
    const batch: FaceBatch = {
      batchId: randomUUID(),
      workerId: this.#o.workerId,
      siteId: this.#o.siteId,
      cameraId: this.#o.cameraId,
      observations,
    };
    await this.#o.queue.enqueue(batch);
    this.#reportQueue();
  }

  #reportQueue(): void {
    this.#o.telemetry.setQueue(this.#o.queue.depth, this.#o.queue.bytes);
  }

  /** Logs `message` when the uplink enters `state`; staying in it (retrying) logs nothing more. */
  #announce(state: string, level: "info" | "warn" | "error", fields: object, message: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#o.log[level](fields, message);
  }

  /** True while the uplink waits for an operator or the API (nothing can be streamed). */
  get #held(): boolean {
    return this.#state?.startsWith("paused:") === true || this.#state === "waiting";
  }

  async #freshToken(): Promise<IngestToken> {
    const current = this.#token;
    if (current && Date.now() < current.value.expiresAt - rotationLeadMs(current.value, current.issuedAt))
      return current.value;
    this.#o.telemetry.setAuthState("authenticating");
    const issuedAt = Date.now();
    const value = await exchangeApiKey({
      apiUrl: this.#o.apiUrl,
      apiKey: this.#o.apiKey,
      tenantId: this.#o.tenantId,
    });
    if (this.#state === undefined || this.#held) {
      this.#announce(
        "authenticated",
        "info",
        {},
        this.#state === undefined ? "authenticated with the API key" : "resumed: the API key is accepted",
      );
      this.#o.telemetry.clearError("uplink");
    }
    this.#token = { value, issuedAt };
    this.#o.telemetry.setAuthState("authenticated");
    const expiry = keyExpiryWarning(value.keyExpiresAt, Date.now(), this.#keyExpiryWarnedAt);
    if (expiry) {
      this.#o.log.warn({ keyExpiresAt: new Date(value.keyExpiresAt!).toISOString() }, expiry);
      this.#keyExpiryWarnedAt = Date.now();
    }
    return value;
  }

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    let reconnects = 0;
    let rejections = 0;
    while (!signal.aborted) {
      let token: IngestToken;
      try {
        token = await this.#freshToken();
        rejections = 0;
      } catch (err) {
        this.#o.telemetry.recordError(err, "uplink");
        if (err instanceof KeyRejected) {
          this.#o.telemetry.setAuthState("rejected", err.code);
          this.#o.telemetry.setStreamState("backoff");
          const delayMs = backoffDelay(rejections++, KEY_REJECTED);
          this.#announce(
            `paused:${err.code}`,
            "error",
            { code: err.code },
            `paused: ${err.code} — ${err.fix}; ${retrying(KEY_REJECTED)}`,
          );
          await sleep(delayMs, signal);
        } else {
          this.#o.telemetry.setAuthState(
            "unauthenticated",
            err instanceof ApiUnreachable ? "api_unreachable" : "error",
          );
          this.#o.telemetry.setStreamState("backoff");
          this.#announce("waiting", "warn", {}, `waiting: ${(err as Error).message}; ${retrying(RECONNECT)}`);
          await sleep(backoffDelay(reconnects++, RECONNECT), signal);
        }
        continue;
      }
      try {
        await this.#stream(token, signal);
        reconnects = 0;
      } catch (err) {
        const e = err as ServiceError;
        this.#o.telemetry.recordError(err, "uplink");
        this.#o.telemetry.setStreamState("backoff");
        // The token was refused (expired early, key revoked): exchange again; a revoked key now
        // fails the exchange with its own cause, and that is the line worth logging.
        if (e.code === status.UNAUTHENTICATED) this.#token = undefined;
        else
          this.#announce(
            `stream:${e.code}`,
            "warn",
            { grpcCode: e.code },
            `ingest stream lost: ${e.details || e.message}; ${retrying(RECONNECT)}`,
          );
        await sleep(backoffDelay(reconnects++, RECONNECT), signal);
      }
    }
  }

  /**
   * Runs one stream until the token is due for rotation (resolves) or the stream fails (rejects).
   * Sends every queued batch not yet acknowledged, at most MAX_IN_FLIGHT at a time.
   */
  async #stream(token: IngestToken, closing: AbortSignal): Promise<void> {
    const { target, creds } = channelFor(this.#o.ingestUrl ?? token.ingestEndpoint);
    const client = new IngestServiceClient(target, creds, {
      "grpc.max_send_message_length": 4 * 1024 * 1024,
    });
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token.accessToken}`);
    this.#o.telemetry.setStreamState("connecting");
    const call: ClientDuplexStream<FaceBatch, IngestAck> = client.streamFaces(metadata);
    const inFlight = new Set<string>();
    let wake: () => void = () => {};
    let failure: ServiceError | undefined;
    let ended = false;

    call.on("data", (ack: IngestAck) => {
      this.#o.telemetry.setStreamState("open");
      if (this.#state !== "streaming") {
        this.#announce("streaming", "info", { target }, `streaming to ingest at ${target}`);
        this.#o.telemetry.clearError("uplink");
      }
      inFlight.delete(ack.batchId);
      if (ack.rejected) {
        // The server will never accept this batch as it is; keeping it would block the queue forever.
        this.#o.log.error(
          { batchId: ack.batchId, reason: ack.reason, error: ack.error },
          "ingest rejected a batch; dropping it",
        );
        this.#o.telemetry.recordError(new Error(`batch rejected: ${ack.error}`), "uplink");
      }
      this.#o.queue.remove(ack.batchId).then(
        () => {
          this.#reportQueue();
          wake();
        },
        (err: unknown) => this.#o.log.error({ err }, "could not remove an acknowledged batch"),
      );
    });
    call.on("error", (err: ServiceError) => {
      failure = err;
      wake();
    });
    call.on("end", () => {
      ended = true;
      wake();
    });
    const unsubscribe = this.#o.queue.onEnqueue(() => wake());
    const rotateAt = token.expiresAt - rotationLeadMs(token, this.#token?.issuedAt ?? Date.now());
    const rotation = setTimeout(() => wake(), Math.max(0, rotateAt - Date.now()));
    const onClose = () => wake();
    closing.addEventListener("abort", onClose);

    try {
      const sent = new Set<string>();
      while (!failure && !ended && !closing.aborted && Date.now() < rotateAt) {
        const next =
          inFlight.size < MAX_IN_FLIGHT
            ? this.#o.queue.pending().find((e) => !sent.has(e.batchId))
            : undefined;
        if (!next) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        sent.add(next.batchId);
        inFlight.add(next.batchId);
        if (!call.write(await this.#o.queue.read(next)))
          await new Promise((resolve) => call.once("drain", resolve));
      }
      if (failure) throw failure;
      // Rotating or closing: let the acks of what is in flight arrive, then end cleanly. Anything
      // still unacknowledged is sent again on the next stream (a no-op for the server if it was stored).
      const drainUntil = Date.now() + DRAIN_MS;
      while (inFlight.size > 0 && !failure && !ended && Date.now() < drainUntil) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      call.end();
      if (failure) throw failure;
    } finally {
      clearTimeout(rotation);
      unsubscribe();
      closing.removeEventListener("abort", onClose);
      call.cancel();
      client.close();
    }
  }
}

/** How a retry schedule reads in a log line, e.g. `retrying in 5 s, backing off to every 60 s`. */
function retrying(policy: BackoffPolicy): string {
  const s = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);
  return `retrying after ${s(policy.initialMs)} at first, backing off to every ${s(policy.maxMs)}`;
}
