/**
 * Rolls stored observations up into sightings: one person, or one unknown track, at one camera over
 * a span of time. Fed by the event store with every batch it stored (duplicates included), before
 * the batch is acknowledged.
 *
 * Rules (the issue leaves them to us):
 * - An observation matched to a person belongs to that person's sighting at its camera; an unmatched
 *   one to its track's (`workerId` + `trackId`); unmatched untracked ones (track 0) share one
 *   "unknown" sighting per worker and camera, since nothing tells their faces apart.
 * - It extends the subject's latest sighting there when it is at most SIGHTING_GAP_MS (30 s) from
 *   it and the sighting stays within MAX_SIGHTING_MS (10 min) and MAX_OBSERVATIONS; else it starts
 *   a new one.
 *
 * Replays: every open sighting keeps its observations' event keys (in memory and stored), so an
 * event seen again, in a replayed batch or the rest of a half-written one, is not counted twice. A
 * sighting stays open until it was last seen RETAIN_MS ago (capture time); then it is archived and
 * forgotten. A batch whose events are all stored already (a duplicate) is taken as counted when
 * they were captured longer ago than that: their sighting, if any, is closed.
 *
 * Crashes: write before acknowledging. `record` resolves once the sightings it touched are stored
 * (one write loop for all streams: whatever arrives during a write goes in the next, chunked), so an
 * acknowledged batch is in its sightings. A batch stored but not acknowledged (the process died
 * before its sightings were written) is replayed by its worker; its events are then duplicates,
 * unknown to the open sightings the next process loads at start-up, so they are counted, unless
 * captured more than RETAIN_MS before the replay (then the events are stored, not in a sighting).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  SightingChangeKind,
  type WatchSightingsResponse,
} from "@facerec/proto/facerec/ingest/v1/ingest_query.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { hourKey } from "../event-partitions.ts";
import type { FaceEventDoc } from "../models.ts";
import {
  MAX_SIGHTING_MS,
  SIGHTING_GAP_MS,
  type SightingDoc,
  type SightingStore,
  toSighting,
} from "./sighting-store.ts";

/** Bounds a sighting's stored event keys (9 bytes each: 18 KiB). */
export const MAX_OBSERVATIONS = 2000;
/** A sighting stays open (in memory and in the open collection) until last seen this long ago. */
export const RETAIN_MS = 2 * 60_000;
/** How often closed sightings are archived, and how long unchanged before they are. */
const ARCHIVE_INTERVAL_MS = 1000;
/** Archived per pass: a pass holds up the writes that acknowledgements wait for. */
const ARCHIVE_BATCH = 500;
/** Changes are published at most this often, so a busy sighting is one frame per interval, not per batch. */
const FEED_INTERVAL_MS = 500;
/** A failed write is retried this soon even when no batch asks for it. */
const RETRY_MS = 1000;
/** Bytes of an event key: 72 of the 132 bits of the event id's digest. */
const EVENT_KEY_CHARS = 12;
const EVENT_KEY_BYTES = 9;

/** What a sighting needs of an event. */
export type Observation = Pick<
  FaceEventDoc,
  | "_id"
  | "workerId"
  | "siteId"
  | "cameraId"
  | "capturedAt"
  | "detScore"
  | "model"
  | "quality"
  | "trackId"
  | "hasThumbnail"
  | "personId"
  | "similarity"
>;

interface Tracked {
  doc: SightingDoc;
  keys: Set<string>;
  /** Where it is in #latest. */
  slot: string;
  changedAt: number;
  /** Not yet published by the feed: its first publication says "started". */
  unpublished: boolean;
}

type Listener = (change: WatchSightingsResponse) => void;

/** An event id is `<hour>-<22 base64url characters>`; its key is the start of the digest. */
const eventKey = (eventId: string) => eventId.slice(11, 11 + EVENT_KEY_CHARS);

export class SightingTracker {
  readonly #store: SightingStore;
  readonly #log: Logger;
  /** Latest sighting of each subject at each camera: `<tenant>\n<camera>\n<subject>`. */
  readonly #latest = new Map<string, Tracked>();
  /** Every sighting in memory, by `<tenant>\n<event key>` of each of its observations. */
  readonly #byEvent = new Map<string, Tracked>();
  readonly #all = new Set<Tracked>();
  #dirty = new Set<Tracked>();
  /** Every write in order: writes of dirty sightings and archiving passes never overlap. */
  #tail: Promise<void> = Promise.resolve();
  /** The write queued behind the one under way; it takes whatever is dirty when it starts. */
  #next: Promise<void> | undefined;
  /** Archiving passes queued or running (the timer adds none while one is). */
  #archivesQueued = 0;
  /** Stored changes waiting for the feed, by sighting id. */
  #toPublish = new Map<string, { tenantId: string; tracked: Tracked }>();
  readonly #feed = new EventEmitter<Record<string, [WatchSightingsResponse]>>();
  #timers: NodeJS.Timeout[] = [];

  constructor(opts: { store: SightingStore; log: Logger }) {
    this.#store = opts.store;
    this.#log = opts.log;
    this.#feed.setMaxListeners(0);
  }

  /** Takes over the open sightings (an earlier process's), then starts the feed and the archiving. */
  async start(now = Date.now()): Promise<void> {
    const open = await this.#store.loadOpen();
    for (const doc of open) this.#adopt(doc, now);
    if (open.length > 0) this.#log.info({ sightings: open.length }, "took over open sightings");
    this.#timers.push(setInterval(() => this.#publish(), FEED_INTERVAL_MS).unref());
    this.#timers.push(
      setInterval(() => {
        if (this.#archivesQueued === 0) void this.archiveClosed().catch(() => {});
      }, ARCHIVE_INTERVAL_MS).unref(),
    );
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /**
   * Adds a stored batch's events (`duplicate`: every one was stored before) and resolves once the
   * sightings they belong to are stored; rejects when that write fails (the batch must not be
   * acknowledged, and its replay will find its events here).
   */
  async record(tenantId: string, events: Observation[], duplicate: boolean, now = Date.now()): Promise<void> {
    let touched = false;
    for (const event of events) {
      const known = this.#byEvent.get(`${tenantId}\n${eventKey(event._id)}`);
      if (known) {
        // Counted already; its sighting may still be waiting for its write (the flush waits for it).
        touched = true;
        continue;
      }
      if (duplicate && event.capturedAt.getTime() < now - RETAIN_MS) continue;
      this.#add(tenantId, event, now);
      touched = true;
    }
    if (touched) await this.#flush();
  }

  /** Calls `listener` with each stored change of `tenantId`'s sightings until the returned function is called. */
  watch(tenantId: string, listener: Listener): () => void {
    this.#feed.on(tenantId, listener);
    return () => this.#feed.off(tenantId, listener);
  }

  #add(tenantId: string, event: Observation, now: number): void {
    const personId = event.personId ?? null;
    const subject = personId ? `p:${personId}` : `t:${event.workerId}:${event.trackId}`;
    const slot = `${tenantId}\n${event.cameraId}\n${subject}`;
    const at = event.capturedAt.getTime();
    const latest = this.#latest.get(slot);
    let tracked = latest && extends_(latest.doc, at) ? latest : undefined;
    if (!tracked) {
      tracked = this.#open(tenantId, subject, slot, event);
      if (!latest || latest.doc.lastSeenAt.getTime() <= at) this.#latest.set(slot, tracked);
    }
    const doc = tracked.doc;
    if (at < doc.firstSeenAt.getTime()) doc.firstSeenAt = event.capturedAt;
    if (at > doc.lastSeenAt.getTime()) doc.lastSeenAt = event.capturedAt;
    doc.observations++;
    if (event.similarity != null && personId) {
      doc.bestSimilarity = Math.max(doc.bestSimilarity ?? Number.NEGATIVE_INFINITY, event.similarity);
    }
    if (betterFace(event, doc)) {
      Object.assign(doc, {
        bestEventId: event._id,
        bestEventHasThumbnail: event.hasThumbnail,
        bestQuality: event.quality,
        bestDetScore: event.detScore,
      });
    }
    const key = eventKey(event._id);
    tracked.keys.add(key);
    this.#byEvent.set(`${tenantId}\n${key}`, tracked);
    tracked.changedAt = now;
    this.#dirty.add(tracked);
  }

  #open(tenantId: string, subject: string, slot: string, first: Observation): Tracked {
    const digest = createHash("sha256")
      .update(`${tenantId}\n${first.cameraId}\n${subject}\n${first._id}`)
      .digest("base64url");
    const doc: SightingDoc = {
      _id: `${hourKey(first.capturedAt.getTime())}-${digest.slice(0, 22)}`,
      tenantId,
      subject,
      personId: first.personId ?? null,
      trackId: first.trackId,
      workerId: first.workerId,
      siteId: first.siteId,
      cameraId: first.cameraId,
      model: first.model,
      firstSeenAt: first.capturedAt,
      lastSeenAt: first.capturedAt,
      observations: 0,
      bestSimilarity: null,
      bestEventId: first._id,
      bestEventHasThumbnail: first.hasThumbnail,
      bestQuality: Number.NEGATIVE_INFINITY,
      bestDetScore: Number.NEGATIVE_INFINITY,
      eventKeys: Buffer.alloc(0),
    };
    const tracked: Tracked = { doc, keys: new Set(), slot, changedAt: 0, unpublished: true };
    this.#all.add(tracked);
    return tracked;
  }

  /** A sighting written by an earlier process: known, so that replays of its events are not counted again. */
  #adopt(doc: SightingDoc, now: number): void {
    const keys = new Set<string>();
    const bytes = doc.eventKeys ? bytesOf(doc.eventKeys) : Buffer.alloc(0);
    for (let i = 0; i + EVENT_KEY_BYTES <= bytes.length; i += EVENT_KEY_BYTES) {
      keys.add(bytes.subarray(i, i + EVENT_KEY_BYTES).toString("base64url"));
    }
    const slot = `${doc.tenantId}\n${doc.cameraId}\n${doc.subject}`;
    const tracked: Tracked = { doc, keys, slot, changedAt: now, unpublished: false };
    this.#all.add(tracked);
    for (const key of keys) this.#byEvent.set(`${doc.tenantId}\n${key}`, tracked);
    const latest = this.#latest.get(slot);
    if (!latest || latest.doc.lastSeenAt < doc.lastSeenAt) this.#latest.set(slot, tracked);
  }

  /** Runs `task` after every write queued before it. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Resolves once everything dirty now is stored: joins the write queued next, or queues one. */
  #flush(): Promise<void> {
    if (this.#next) return this.#next;
    const next = this.#enqueue(() => {
      this.#next = undefined;
      return this.#write();
    });
    this.#next = next;
    return next;
  }

  async #write(): Promise<void> {
    const batch = [...this.#dirty];
    this.#dirty = new Set();
    if (batch.length === 0) return;
    try {
      await this.#store.writeOpen(batch.map(stored));
    } catch (err) {
      // Still dirty: the next write (a replay's, or the retry) stores them.
      for (const tracked of batch) this.#dirty.add(tracked);
      this.#log.warn({ err, sightings: batch.length }, "writing sightings failed; retrying");
      setTimeout(() => void this.#flush().catch(() => {}), RETRY_MS).unref();
      throw err;
    }
    for (const tracked of batch)
      this.#toPublish.set(tracked.doc._id, { tenantId: tracked.doc.tenantId, tracked });
  }

  /**
   * Archives the sightings last seen more than RETAIN_MS ago, stored and unchanged since the last
   * pass, and forgets them (runs every ARCHIVE_INTERVAL_MS; exposed for tests).
   */
  archiveClosed(now = Date.now()): Promise<void> {
    this.#archivesQueued++;
    return this.#enqueue(async () => {
      const closed: Tracked[] = [];
      for (const tracked of this.#all) {
        if (closed.length === ARCHIVE_BATCH) break;
        const idle = tracked.changedAt <= now - ARCHIVE_INTERVAL_MS;
        if (idle && tracked.doc.lastSeenAt.getTime() < now - RETAIN_MS && !this.#dirty.has(tracked)) {
          closed.push(tracked);
        }
      }
      if (closed.length === 0) return;
      try {
        await this.#store.archive(closed.map(stored));
      } catch (err) {
        this.#log.warn({ err, sightings: closed.length }, "archiving sightings failed; retrying");
        return;
      }
      for (const tracked of closed) this.#forget(tracked);
    }).finally(() => {
      this.#archivesQueued--;
    });
  }

  #publish(): void {
    const pending = this.#toPublish;
    this.#toPublish = new Map();
    for (const { tenantId, tracked } of pending.values()) {
      const kind = tracked.unpublished
        ? SightingChangeKind.SIGHTING_CHANGE_KIND_STARTED
        : SightingChangeKind.SIGHTING_CHANGE_KIND_UPDATED;
      tracked.unpublished = false;
      if (this.#feed.listenerCount(tenantId) === 0) continue;
      this.#feed.emit(tenantId, { kind, sighting: toSighting(tracked.doc) });
    }
  }

  #forget(tracked: Tracked): void {
    this.#all.delete(tracked);
    for (const key of tracked.keys) {
      const byEvent = `${tracked.doc.tenantId}\n${key}`;
      if (this.#byEvent.get(byEvent) === tracked) this.#byEvent.delete(byEvent);
    }
    if (this.#latest.get(tracked.slot) === tracked) this.#latest.delete(tracked.slot);
  }

  /** Sightings in memory (for tests and metrics). */
  get size(): number {
    return this.#all.size;
  }
}

/** The document of a sighting as stored while open. */
function stored({ doc, keys }: Tracked): SightingDoc {
  return { ...doc, eventKeys: Buffer.concat([...keys].map((k) => Buffer.from(k, "base64url"))) };
}

/** Whether an observation at `at` belongs to `doc`: close enough in time, within the sighting's bounds. */
function extends_(doc: SightingDoc, at: number): boolean {
  const first = Math.min(doc.firstSeenAt.getTime(), at);
  const last = Math.max(doc.lastSeenAt.getTime(), at);
  return (
    at >= doc.firstSeenAt.getTime() - SIGHTING_GAP_MS &&
    at <= doc.lastSeenAt.getTime() + SIGHTING_GAP_MS &&
    last - first <= MAX_SIGHTING_MS &&
    doc.observations < MAX_OBSERVATIONS
  );
}

/** A face with a thumbnail beats one without; then higher quality, then higher detection score. */
function betterFace(event: Observation, doc: SightingDoc): boolean {
  if (doc.observations === 1) return true;
  if (event.hasThumbnail !== doc.bestEventHasThumbnail) return event.hasThumbnail;
  return (
    event.quality > doc.bestQuality ||
    (event.quality === doc.bestQuality && event.detScore > doc.bestDetScore)
  );
}
