/**
 * Sends the pending deliveries: at least once, signed, with exponential backoff and jitter for a
 * retry window (24 h), then `failed`. Every delivery is a database record written before its first
 * attempt, and an attempt only moves its `nextAttemptAt` past the attempt's timeout while it runs
 * (a lease), so a process killed mid-attempt leaves the delivery due again shortly: a restarted
 * service, or another replica, sends it. Replicas racing for one delivery may both send it (the
 * conditional claim is not atomic on FerretDB); receivers dedupe on Facerec-Event-Id.
 */
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { backoffDelay } from "@facerec/shared/backoff.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { WebhookMetrics } from "../metrics.ts";
import type { DeliveryDoc, WebhookDoc, WebhookModels } from "./models.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature.ts";
import type { CheckedAddress, WebhookUrlPolicy } from "./url-policy.ts";

/** How much of an answer's body is kept for the deliveries list. */
const EXCERPT_CHARS = 256;
/** How much of an answer is read at most (the rest is dropped with the connection). */
const MAX_READ_BYTES = 4096;
/** Settled deliveries are kept this long for the list, then swept. */
const RETENTION_MS = 30 * 24 * 3600_000;
const SWEEP_EVERY_MS = 3600_000;

export interface RetryPolicy {
  /** Delay after the first failed attempt; doubled after each further failure. */
  baseMs: number;
  /** The longest delay between two attempts. */
  maxMs: number;
  /** How long after its creation a delivery is tried; then it is `failed`. */
  windowMs: number;
}

/**
 * When the attempt after `failures` failed ones is due: exponential backoff with jitter (a random
 * 50-100 % of the delay, so receivers coming back are not hit by every sender at once), and one
 * last attempt at the end of the window. Undefined when the window is over.
 */
export function nextAttemptAt(
  createdAt: Date,
  failures: number,
  now: number,
  retry: RetryPolicy,
  random: () => number = Math.random,
): Date | undefined {
  const windowEnd = createdAt.getTime() + retry.windowMs;
  if (now >= windowEnd) return undefined;
  const delay = backoffDelay(
    failures - 1,
    { initialMs: retry.baseMs, maxMs: retry.maxMs, jitter: "equal" },
    random,
  );
  return new Date(Math.min(now + delay, windowEnd));
}

interface AttemptResult {
  statusCode: number;
  excerpt: string;
}

export class WebhookDispatcher {
  readonly #models: WebhookModels;
  readonly #policy: WebhookUrlPolicy;
  readonly #log: Logger;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #concurrency: number;
  readonly #metrics: WebhookMetrics;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #attempts = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #lastSweep = 0;

  constructor(deps: {
    models: WebhookModels;
    policy: WebhookUrlPolicy;
    log: Logger;
    retry: RetryPolicy;
    timeoutMs: number;
    pollMs: number;
    metrics: WebhookMetrics;
    concurrency?: number;
  }) {
    this.#models = deps.models;
    this.#policy = deps.policy;
    this.#log = deps.log;
    this.#retry = deps.retry;
    this.#timeoutMs = deps.timeoutMs;
    this.#pollMs = deps.pollMs;
    this.#concurrency = deps.concurrency ?? 8;
    this.#metrics = deps.metrics;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  /** Looks for due deliveries now (new ones were written) instead of at the next poll. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#ticking = this.#tick()
      .catch((err: unknown) => this.#log.warn({ err }, "webhook deliveries could not be read; retrying"))
      .finally(() => {
        this.#ticking = undefined;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else this.#timer = setTimeout(() => this.wake(), this.#pollMs);
      });
  }

  /** Stops sending; attempts under way are abandoned (awaited) and due again once their lease ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const controller of this.#inFlight.values()) controller.abort();
    await this.#ticking;
    await Promise.all(this.#attempts);
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastSweep > SWEEP_EVERY_MS) {
      this.#lastSweep = now;
      await this.#models.deliveries.deleteMany({ settledAt: { $lt: new Date(now - RETENTION_MS) } });
    }
    const room = this.#concurrency - this.#inFlight.size;
    if (room <= 0) return;
    const due = await this.#models.deliveries
      .find({ status: "pending", nextAttemptAt: { $lte: new Date(now) } })
      .sort({ nextAttemptAt: 1 })
      .limit(room)
      .lean<DeliveryDoc[]>();
    for (const delivery of due) {
      if (this.#stopped || this.#inFlight.has(delivery._id)) continue;
      // The lease: other replicas (and this one after a crash) leave it alone until the attempt
      // must be over.
      const claimed = await this.#models.deliveries.updateOne(
        { _id: delivery._id, status: "pending", nextAttemptAt: delivery.nextAttemptAt },
        { $set: { nextAttemptAt: new Date(Date.now() + this.#timeoutMs + 5000) } },
      );
      if (claimed.modifiedCount !== 1) continue;
      const controller = new AbortController();
      this.#inFlight.set(delivery._id, controller);
      const attempt = this.#attempt(delivery, controller.signal)
        .catch((err: unknown) =>
          this.#log.warn({ err, delivery: delivery._id }, "webhook attempt not recorded"),
        )
        .finally(() => {
          this.#inFlight.delete(delivery._id);
          this.#attempts.delete(attempt);
          this.wake();
        });
      this.#attempts.add(attempt);
    }
  }

  async #attempt(delivery: DeliveryDoc, stopping: AbortSignal): Promise<void> {
    const webhook = await this.#models.webhooks.findById(delivery.webhookId).lean<WebhookDoc>();
    if (!webhook) {
      // Deleted meanwhile (its deliveries go with it): nothing to send.
      await this.#models.deliveries.deleteOne({ _id: delivery._id });
      return;
    }
    const timer = this.#metrics.attemptSeconds.startTimer();
    const result = await this.#send(webhook, delivery, stopping);
    if (stopping.aborted) return; // shutting down: the lease runs out and the attempt is made again
    timer();
    const answer = result.statusCode === 0 ? "none" : `${Math.floor(result.statusCode / 100)}xx`;
    this.#metrics.attempts.inc({ event_type: delivery.eventType, answer });
    const now = Date.now();
    const attempts = delivery.attempts + 1;
    const succeeded = result.statusCode >= 200 && result.statusCode < 300;
    const next = succeeded ? undefined : nextAttemptAt(delivery.createdAt, attempts, now, this.#retry);
    const status = succeeded ? "succeeded" : next ? "pending" : "failed";
    await this.#models.deliveries.updateOne(
      { _id: delivery._id },
      {
        $set: {
          status,
          attempts,
          nextAttemptAt: next ?? null,
          lastAttemptAt: new Date(now),
          lastStatusCode: result.statusCode,
          lastResponseExcerpt: result.excerpt,
          settledAt: status === "pending" ? null : new Date(now),
        },
      },
    );
    if (status !== "pending") this.#metrics.settled.inc({ event_type: delivery.eventType, status });
    this.#log[succeeded ? "debug" : "info"](
      { delivery: delivery._id, webhook: webhook._id, attempts, statusCode: result.statusCode, status },
      "webhook attempt",
    );
  }

  /** One signed POST to the webhook's URL, at an address checked now; never throws. */
  async #send(webhook: WebhookDoc, delivery: DeliveryDoc, stopping: AbortSignal): Promise<AttemptResult> {
    const url = new URL(webhook.url);
    let target: CheckedAddress;
    try {
      this.#policy.parse(webhook.url);
      target = await this.#policy.resolve(url);
    } catch (err) {
      return { statusCode: 0, excerpt: `not sent: ${(err as Error).message}` };
    }
    const body = Buffer.from(delivery.payload);
    const headers = {
      "content-type": "application/json",
      "content-length": String(body.length),
      "user-agent": "facerec-webhooks/1",
      [EVENT_ID_HEADER]: delivery.eventId,
      [EVENT_TYPE_HEADER]: delivery.eventType,
      [SIGNATURE_HEADER]: signatureHeader(webhook.secret, body, Math.floor(Date.now() / 1000)),
    };
    const signal = AbortSignal.any([stopping, AbortSignal.timeout(this.#timeoutMs)]);
    try {
      return await post(url, target, headers, body, signal);
    } catch (err) {
      const reason =
        signal.aborted && !stopping.aborted
          ? `no answer within ${this.#timeoutMs} ms`
          : (err as Error).message;
      return { statusCode: 0, excerpt: `no answer: ${reason}` };
    }
  }
}

/**
 * POSTs to the checked address itself (not to the host name, which could resolve elsewhere by
 * now), with the host name as Host and as TLS server name, so virtual hosts and certificates work.
 * Redirects are not followed: a 3xx is an unsuccessful answer.
 */
function post(
  url: URL,
  target: CheckedAddress,
  headers: Record<string, string>,
  body: Buffer,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const secure = url.protocol === "https:";
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        method: "POST",
        host: target.address,
        family: target.family,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host },
        ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
        signal,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const finish = () =>
          resolve({
            statusCode: response.statusCode ?? 0,
            excerpt: Buffer.concat(chunks).toString("utf8").slice(0, EXCERPT_CHARS),
          });
        response.on("data", (chunk: Buffer) => {
          if (read < MAX_READ_BYTES) chunks.push(chunk.subarray(0, MAX_READ_BYTES - read));
          read += chunk.length;
          if (read >= MAX_READ_BYTES) {
            response.destroy();
            finish();
          }
        });
        response.on("end", finish);
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
