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
 * Nothing is written on the acknowledgement path (a write per batch made ingest 20 times slower
 * on FerretDB): sightings change in memory, and once a second the tracker archives the closed ones
 * (last seen RETAIN_MS ago) and writes a snapshot of the open ones (sighting-store.ts), then
 * publishes what changed to the live feed.
 *
 * Replays: a batch whose events were all stored before (a duplicate) was counted when it was first
 * stored, or by the rebuild below, so it is skipped. Of any other batch, events already in an open
 * sighting are skipped (the rest of a half-written batch), the others counted.
 *
 * Crashes: the events are the journal. A starting tracker takes over the open sightings of the
 * snapshots and rebuilds them from the stored events (ids are derived from a sighting's first event,
 * so a rebuilt sighting keeps its id), together with every sighting of their tenants begun since
 * RETAIN_MS ago: what the dead process counted but had not written yet is counted again, once.
 * Lost: the sightings of a tenant none of whose sightings were open in the last snapshot (at most
 * a second of them), and events stored more than RETAIN_MS before a restart whose sighting had not
 * been written (their events are kept).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { FaceEvent } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import {
  SightingChangeKind,
  type WatchSightingsResponse,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import { hourKey } from "../event-partitions.ts";
import type { FaceEventDoc } from "../models.ts";
import {
  type LiveSightings,
  MAX_SIGHTING_MS,
  SIGHTING_GAP_MS,
  type SightingChange,
  type SightingDoc,
  type SightingStore,
  toSighting,
} from "./sighting-store.ts";

/** Bounds a sighting (and the event keys it keeps in memory). */
export const MAX_OBSERVATIONS = 2000;
/** A sighting stays open (in memory and in the open collection) until last seen this long ago. */
export const RETAIN_MS = 2 * 60_000;
/** How often closed sightings are archived and open ones snapshotted, and how long unchanged before archiving. */
const PERSIST_INTERVAL_MS = 1000;
/** Archived per pass, so that a pass stays short. */
const ARCHIVE_BATCH = 2000;
/** An event key: 72 of the 132 bits of the event id's digest. */
const EVENT_KEY_CHARS = 12;
/** Events read per page while rebuilding. */
const REBUILD_PAGE = 500;

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

/** What rebuilding needs of the event store. */
export interface EventSource {
  list(
    tenantId: string,
    query: { from: Date; pageSize: number; pageToken: string; includeEmbeddings: false },
  ): Promise<{ events: FaceEvent[]; nextPageToken: string }>;
}

export class SightingTracker {
  /** This process's name on its snapshot. */
  readonly replicaId = crypto.randomUUID();
  readonly #store: SightingStore;
  readonly #events: EventSource;
  readonly #log: Logger;
  /** Latest sighting of each subject at each camera: `<tenant>\n<camera>\n<subject>`. */
  readonly #latest = new Map<string, Tracked>();
  /** Every sighting in memory, by `<tenant>\n<event key>` of each of its observations. */
  readonly #byEvent = new Map<string, Tracked>();
  readonly #all = new Set<Tracked>();
  /** Changed since the last snapshot. */
  #changed = new Set<Tracked>();
  #persisting: Promise<void> | undefined;
  readonly #feed = new EventEmitter<Record<string, [WatchSightingsResponse]>>();
  #persistEvery: Repeating | undefined;

  constructor(opts: { store: SightingStore; events: EventSource; log: Logger }) {
    this.#store = opts.store;
    this.#events = opts.events;
    this.#log = opts.log;
    this.#feed.setMaxListeners(0);
  }

  /**
   * Takes over the open sightings of the snapshots (an earlier process's) by rebuilding them from
   * the stored events, writes its own snapshot, then persists every PERSIST_INTERVAL_MS.
   */
  async start(now = Date.now()): Promise<void> {
    const snapshots = await this.#store.snapshots();
    const taken = [...snapshots.values()].flat();
    for (const [tenantId, open] of Map.groupBy(taken, (s) => s.tenantId)) {
      await this.#rebuild(tenantId, open, now);
    }
    for (const tracked of this.#all) tracked.unpublished = false;
    await this.#store.writeSnapshot(this.replicaId, this.#open_());
    await this.#store.dropSnapshots([...snapshots.keys()]);
    this.#changed.clear();
    if (taken.length > 0) {
      this.#log.info({ taken: taken.length, rebuilt: this.#all.size }, "rebuilt open sightings from events");
    }
    // A failed persist is logged by #persist and retried by the next one.
    this.#persistEvery = repeat(() => this.persist(), { everyMs: PERSIST_INTERVAL_MS, onError: () => {} });
  }

  /** Waits for a persist in flight. */
  async stop(): Promise<void> {
    await this.#persistEvery?.stop();
  }

  /**
   * Adds a stored batch's events (`duplicate`: every one was stored before, so counted already).
   * Synchronous in effect: nothing is written before the batch's acknowledgement.
   */
  async record(tenantId: string, events: Observation[], duplicate: boolean, now = Date.now()): Promise<void> {
    if (duplicate) return;
    for (const event of events) {
      if (!this.#byEvent.has(`${tenantId}\n${eventKey(event._id)}`)) this.#add(tenantId, event, now);
    }
  }

  /** Calls `listener` with each stored change of `tenantId`'s sightings until the returned function is called. */
  watch(tenantId: string, listener: Listener): () => void {
    this.#feed.on(tenantId, listener);
    return () => this.#feed.off(tenantId, listener);
  }

  /** This process's open sightings of `tenantId`, for pages. */
  live(tenantId: string): LiveSightings {
    return {
      replicaId: this.replicaId,
      sightings: [...this.#all].filter((t) => t.doc.tenantId === tenantId).map((t) => ({ ...t.doc })),
    };
  }

  /**
   * Archives the sightings last seen more than RETAIN_MS ago and unchanged for a while, writes the
   * snapshot of the rest, then publishes what changed (every PERSIST_INTERVAL_MS; exposed for tests).
   */
  persist(now = Date.now()): Promise<void> {
    return this.#inTurn(() => this.#persist(now));
  }

  /**
   * Takes a person out of the tenant's sightings (an erasure): `change` edits or drops each of
   * theirs, open ones in memory (then this replica's snapshot) and archived ones begun in `hours`.
   * In turn with persisting, which archives. Returns how many sightings it was given.
   */
  erasePerson(tenantId: string, personId: string, hours: string[], change: SightingChange): Promise<number> {
    return this.#inTurn(async () => {
      let count = 0;
      for (const tracked of [...this.#all]) {
        if (tracked.doc.tenantId !== tenantId || tracked.doc.personId !== personId) continue;
        count++;
        // Later observations start a sighting of their own.
        if (this.#latest.get(tracked.slot) === tracked) this.#latest.delete(tracked.slot);
        const edited = change({ ...tracked.doc });
        if (edited) {
          tracked.doc = edited;
          this.#changed.add(tracked);
        } else {
          this.#forget(tracked);
          this.#changed.delete(tracked);
        }
      }
      count += await this.#store.editPerson(tenantId, personId, hours, change);
      await this.#store.writeSnapshot(this.replicaId, this.#open_());
      return count;
    });
  }

  /** Runs `task` after every persist or erasure before it. */
  #inTurn<T>(task: () => Promise<T>): Promise<T> {
    const run = (this.#persisting ?? Promise.resolve()).then(task);
    const pending: Promise<void> = run
      .then(() => {})
      .catch(() => {})
      .finally(() => {
        if (this.#persisting === pending) this.#persisting = undefined;
      });
    this.#persisting = pending;
    return run;
  }

  async #persist(now: number): Promise<void> {
    const closed: Tracked[] = [];
    for (const tracked of this.#all) {
      if (closed.length === ARCHIVE_BATCH) break;
      const idle = tracked.changedAt <= now - PERSIST_INTERVAL_MS;
      if (idle && tracked.doc.lastSeenAt.getTime() < now - RETAIN_MS) closed.push(tracked);
    }
    const changed = [...this.#changed];
    if (closed.length === 0 && changed.length === 0) return;
    this.#changed = new Set();
    try {
      // Archived first, then out of the snapshot: a crash in between leaves it in both (shown once).
      if (closed.length > 0) await this.#store.archive(closed.map((t) => ({ ...t.doc })));
      for (const tracked of closed) this.#forget(tracked);
      await this.#store.writeSnapshot(this.replicaId, this.#open_());
    } catch (err) {
      for (const tracked of changed) this.#changed.add(tracked);
      this.#log.warn({ err }, "writing sightings failed; retrying");
      throw err;
    }
    this.#publish(changed);
  }

  #open_(): SightingDoc[] {
    return [...this.#all].map((t) => t.doc);
  }

  /**
   * Recounts a tenant's sightings from its stored events: those open in a snapshot from their first
   * observation, every other one begun since RETAIN_MS ago (older ones are archived).
   */
  async #rebuild(tenantId: string, open: SightingDoc[], now: number): Promise<void> {
    const recent = now - RETAIN_MS;
    const firstOf = new Map(
      open.map((s) => [`${tenantId}\n${s.cameraId}\n${s.subject}`, s.firstSeenAt.getTime()]),
    );
    const from = Math.min(recent, ...firstOf.values());
    const events: FaceEvent[] = [];
    let pageToken = "";
    do {
      const page = await this.#events.list(tenantId, {
        from: new Date(from),
        pageSize: REBUILD_PAGE,
        pageToken,
        includeEmbeddings: false,
      });
      events.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Oldest first, as they were seen.
    for (const e of events.reverse()) {
      const observation = fromFaceEvent(e);
      const at = observation.capturedAt.getTime();
      const first = firstOf.get(`${tenantId}\n${e.cameraId}\n${subjectOf(observation)}`);
      if (at < recent && (first === undefined || at < first)) continue;
      if (!this.#byEvent.has(`${tenantId}\n${eventKey(e.id)}`)) this.#add(tenantId, observation, now);
    }
  }

  #add(tenantId: string, event: Observation, now: number): void {
    const personId = event.personId ?? null;
    const subject = subjectOf(event);
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
    this.#changed.add(tracked);
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
    };
    const tracked: Tracked = { doc, keys: new Set(), slot, changedAt: 0, unpublished: true };
    this.#all.add(tracked);
    return tracked;
  }

  #publish(changed: Tracked[]): void {
    for (const tracked of changed) {
      const kind = tracked.unpublished
        ? SightingChangeKind.SIGHTING_CHANGE_KIND_STARTED
        : SightingChangeKind.SIGHTING_CHANGE_KIND_UPDATED;
      tracked.unpublished = false;
      const tenantId = tracked.doc.tenantId;
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

/** Whom an observation is of: its person, else its track (or the untracked unknowns) at its worker. */
function subjectOf(event: Observation): string {
  return event.personId ? `p:${event.personId}` : `t:${event.workerId}:${event.trackId}`;
}

function fromFaceEvent(e: FaceEvent): Observation {
  return {
    _id: e.id,
    workerId: e.workerId,
    siteId: e.siteId,
    cameraId: e.cameraId,
    capturedAt: e.capturedAt!,
    detScore: e.detScore,
    model: e.model,
    quality: e.quality,
    trackId: e.trackId,
    hasThumbnail: e.hasThumbnail,
    personId: e.personId || null,
    similarity: e.personId ? e.similarity : null,
  };
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
