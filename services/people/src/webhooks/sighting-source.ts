/**
 * Finds the sightings that ingest starts, for `sighting.started` webhooks, without losing any while
 * this service (or ingest) is down. Per tenant with such a webhook:
 * - live: WatchSightings, whose STARTED changes are enqueued at once;
 * - durable: a cursor (webhook_cursors) up to which the tenant's sightings have been read. On every
 *   (re)connection of the feed, and every `scanMs` besides, ListSightings reads the sightings seen
 *   since the cursor less `overlapMs` and enqueues those that started then; the cursor then moves to
 *   the time the scan began. Deliveries' ids are derived from the sighting, so an event found twice
 *   (live and by a scan, or by two replicas) is delivered once.
 * The overlap covers capture times behind the clock (worker latency and clock skew). A sighting
 * captured before the cursor less the overlap and first stored while nothing was watching (a worker
 * replaying a long outage of its own while this service was down too) is not announced.
 */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type IngestQueryServiceClient,
  ListSightingsRequest,
  type Sighting,
  SightingChangeKind,
  type WatchSightingsResponse,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { type Backoff, backoffDelay } from "@facerec/shared/backoff.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { ClientReadableStream } from "@grpc/grpc-js";
import type { PeopleModels } from "../models.ts";
import type { WebhookModels } from "./models.ts";
import type { WebhookEvent, Webhooks } from "./webhooks.ts";

const SOURCE = "sightings";
/** Pages read at most by one scan (each reads up to a day of sightings or ~100 ms). */
const MAX_SCAN_PAGES = 200;
/** Reconnecting to ingest's sighting feed: 0.5-1 s after the first failure, doubling up to 15-30 s. */
const RECONNECT: Backoff = { initialMs: 500, maxMs: 30_000, jitter: "equal" };

/** Who the webhooks' reads are made as: the platform, within the tenant. */
export function systemActor(tenantId: string): Actor {
  return {
    tenantId,
    actorId: "webhooks",
    actorType: ActorType.ACTOR_TYPE_SYSTEM,
    displayName: "webhooks",
    remoteAddress: "",
    userAgent: "",
  };
}

interface TenantFeed {
  call: ClientReadableStream<WatchSightingsResponse> | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  failures: number;
  scanning: Promise<void> | undefined;
  rescan: boolean;
  lastScanAt: number;
  closed: boolean;
}

export class SightingSource {
  readonly #ingest: IngestQueryServiceClient;
  readonly #models: WebhookModels;
  readonly #people: PeopleModels["people"];
  readonly #webhooks: Webhooks;
  readonly #log: Logger;
  readonly #scanMs: number;
  readonly #overlapMs: number;
  readonly #refreshMs: number;
  readonly #feeds = new Map<string, TenantFeed>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #stopped = true;

  constructor(deps: {
    ingest: IngestQueryServiceClient;
    models: WebhookModels;
    people: PeopleModels["people"];
    webhooks: Webhooks;
    log: Logger;
    scanMs: number;
    overlapMs: number;
    /** How often the set of tenants with sighting.started webhooks is read again (webhooks made here refresh at once). */
    refreshMs: number;
  }) {
    this.#ingest = deps.ingest;
    this.#models = deps.models;
    this.#people = deps.people;
    this.#webhooks = deps.webhooks;
    this.#log = deps.log;
    this.#scanMs = deps.scanMs;
    this.#overlapMs = deps.overlapMs;
    this.#refreshMs = deps.refreshMs;
  }

  start(): void {
    this.#stopped = false;
    void this.refresh();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    for (const tenantId of [...this.#feeds.keys()]) this.#close(tenantId);
  }

  /** Follows the tenants that have sighting.started webhooks now (called when webhooks change, and periodically). */
  async refresh(): Promise<void> {
    if (this.#stopped) return;
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    clearTimeout(this.#refreshTimer);
    this.#refreshing = this.#refreshOnce().finally(() => {
      this.#refreshing = undefined;
      if (this.#stopped) return;
      if (this.#refreshAgain) {
        this.#refreshAgain = false;
        void this.refresh();
      } else this.#refreshTimer = setTimeout(() => void this.refresh(), this.#refreshMs);
    });
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<void> {
    try {
      const tenants = await this.#webhooks.subscribedTenants("sighting.started");
      for (const [tenantId, firstCreatedAt] of tenants) {
        if (!this.#feeds.has(tenantId)) await this.#open(tenantId, firstCreatedAt);
      }
      for (const tenantId of [...this.#feeds.keys()]) if (!tenants.has(tenantId)) this.#close(tenantId);
      // The safety net under the live feed: every scanMs, a scan since the cursor.
      for (const [tenantId, feed] of this.#feeds)
        if (Date.now() - feed.lastScanAt >= this.#scanMs) this.#scan(tenantId);
    } catch (err) {
      this.#log.warn({ err }, "webhook tenants could not be read; retrying");
    }
  }

  async #open(tenantId: string, firstCreatedAt: Date): Promise<void> {
    const feed: TenantFeed = {
      call: undefined,
      retryTimer: undefined,
      failures: 0,
      scanning: undefined,
      rescan: false,
      lastScanAt: 0,
      closed: false,
    };
    this.#feeds.set(tenantId, feed);
    try {
      // A tenant's first such webhook: its sightings are read from when that webhook was made.
      await this.#models.cursors.updateOne(
        { _id: `${SOURCE}:${tenantId}` },
        { $setOnInsert: { syncedTo: firstCreatedAt } },
        { upsert: true },
      );
    } catch (err) {
      this.#feeds.delete(tenantId); // the next refresh tries again
      throw err;
    }
    this.#watch(tenantId, feed);
  }

  #close(tenantId: string): void {
    const feed = this.#feeds.get(tenantId);
    if (!feed) return;
    feed.closed = true;
    clearTimeout(feed.retryTimer);
    feed.call?.cancel();
    this.#feeds.delete(tenantId);
  }

  #watch(tenantId: string, feed: TenantFeed): void {
    if (feed.closed) return;
    const call = this.#ingest.watchSightings({ actor: systemActor(tenantId) });
    feed.call = call;
    // The feed is open once its headers arrive: scan then, so nothing between the cursor and the
    // first live change is missed.
    call.on("metadata", () => {
      feed.failures = 0;
      this.#scan(tenantId);
    });
    call.on("data", (change: WatchSightingsResponse) => {
      if (change.kind !== SightingChangeKind.SIGHTING_CHANGE_KIND_STARTED || !change.sighting) return;
      this.#announce(tenantId, change.sighting, new Date()).catch((err: unknown) =>
        // The next scan finds it.
        this.#log.warn(
          { err, sighting: change.sighting?.id },
          "sighting.started not enqueued; the next scan retries",
        ),
      );
    });
    call.on("error", () => {}); // the end is handled on "status"
    call.on("status", () => {
      if (feed.closed || this.#stopped) return;
      feed.failures += 1;
      feed.retryTimer = setTimeout(() => this.#watch(tenantId, feed), backoffDelay(feed.failures, RECONNECT));
    });
  }

  /** Runs a scan of the tenant's sightings since its cursor (one at a time; a request during one runs after it). */
  #scan(tenantId: string): void {
    const feed = this.#feeds.get(tenantId);
    if (!feed || this.#stopped) return;
    if (feed.scanning) {
      feed.rescan = true;
      return;
    }
    feed.lastScanAt = Date.now();
    feed.scanning = this.#scanOnce(tenantId)
      .catch((err: unknown) =>
        this.#log.info({ err, tenantId }, "sightings scan for webhooks failed; retrying"),
      )
      .finally(() => {
        feed.scanning = undefined;
        if (feed.rescan && !feed.closed) {
          feed.rescan = false;
          this.#scan(tenantId);
        }
      });
  }

  async #scanOnce(tenantId: string): Promise<void> {
    const startedAt = new Date();
    const cursor = await this.#models.cursors.findById(`${SOURCE}:${tenantId}`).lean<{ syncedTo: Date }>();
    if (!cursor) return;
    const from = new Date(cursor.syncedTo.getTime() - this.#overlapMs);
    let pageToken = "";
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const response = await callUnary(
        this.#ingest.listSightings.bind(this.#ingest),
        {
          ...ListSightingsRequest.fromPartial({}),
          actor: systemActor(tenantId),
          from,
          pageSize: 500,
          pageToken,
        },
        15_000,
      );
      for (const sighting of response.sightings) {
        if (sighting.firstSeenAt && sighting.firstSeenAt >= from)
          await this.#announce(tenantId, sighting, sighting.firstSeenAt);
      }
      pageToken = response.nextPageToken;
      if (!pageToken) break;
    }
    if (pageToken) this.#log.warn({ tenantId }, "sightings scan for webhooks stopped at its page limit");
    await this.#models.cursors.updateOne(
      { _id: `${SOURCE}:${tenantId}`, syncedTo: { $lt: startedAt } },
      { $set: { syncedTo: startedAt } },
    );
  }

  /** Enqueues sighting.started for a sighting, for webhooks that existed by `createdBy`. */
  async #announce(tenantId: string, sighting: Sighting, createdBy: Date): Promise<void> {
    const person = sighting.personId
      ? await this.#people
          .findOne({ _id: sighting.personId, tenantId }, { displayName: 1, watchlist: 1 })
          .lean<{ displayName: string; watchlist: boolean }>()
      : null;
    const event: WebhookEvent = {
      type: "sighting.started",
      tenantId,
      sourceId: sighting.id,
      occurredAt: sighting.firstSeenAt ?? new Date(),
      watchlisted: person?.watchlist === true,
      data: {
        sighting: {
          id: sighting.id,
          personId: sighting.personId || null,
          personName: person?.displayName ?? null,
          watchlist: person?.watchlist ?? false,
          trackId: sighting.trackId,
          workerId: sighting.workerId,
          siteId: sighting.siteId,
          cameraId: sighting.cameraId,
          model: sighting.model,
          firstSeenAt: sighting.firstSeenAt?.toISOString() ?? null,
          lastSeenAt: sighting.lastSeenAt?.toISOString() ?? null,
          observations: sighting.observations,
          bestSimilarity: sighting.bestSimilarity ?? null,
          bestEventId: sighting.bestEventId,
        },
      },
    };
    await this.#webhooks.enqueue(event, createdBy);
  }
}
