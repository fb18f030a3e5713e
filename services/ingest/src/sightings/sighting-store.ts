/**
 * Where sightings live: one collection per tenant and UTC hour of a sighting's first observation,
 * `sightings_<yyyymmddhh>`, in the tenant's event database of that day (event-partitions.ts), so a
 * write or a page touches a few small collections however many sightings are stored (FerretDB
 * 1.24/SQLite reads every document of a collection for any filter, and its `_id` index is not used
 * either). A sighting lasts at most MAX_SIGHTING_MS, so its last observation is at most that long
 * after the start of its hour's successor: a page reads hours newest first and knows when every
 * sighting still unread is older than what it has found.
 *
 * Retention comes with the events: a day's database is dropped once all its hours have expired.
 * Written only by the SightingTracker that made a sighting (see sighting-tracker.ts).
 */
import type { Sighting } from "@facerec/proto/facerec/ingest/v1/ingest_query.ts";
import type { Cursor } from "@facerec/shared/db/pagination.ts";
import type { mongo } from "mongoose";
import {
  EventPartitions,
  HOUR_MS,
  hourKey,
  type Partition,
  PartitionDirectory,
} from "../event-partitions.ts";
import { DURABLE_WRITE } from "../event-store.ts";
import type { IngestModels } from "../models.ts";

/** A sighting ends after this long with no observation of its subject at its camera. */
export const SIGHTING_GAP_MS = 30_000;
/** A longer stay continues as a new sighting (pages rely on this bound, see above). */
export const MAX_SIGHTING_MS = 10 * 60_000;
/** FerretDB wedges on large bulk writes (100+ upserts); stay well below. */
const WRITE_CHUNK = 25;
/** Hours one page may read; past them (or PAGE_READ_BUDGET_MS) it ends early with a token. */
const HOURS_PER_PAGE = 24;
const PAGE_READ_BUDGET_MS = 100;

export interface SightingDoc {
  /** `<yyyymmddhh of the first observation>-<22 base64url characters>`: the id names its collection. */
  _id: string;
  tenantId: string;
  /** Whom it is of: `p:<personId>`, or `t:<workerId>:<trackId>` for an unknown face. */
  subject: string;
  personId: string | null;
  trackId: number;
  workerId: string;
  siteId: string;
  cameraId: string;
  model: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  observations: number;
  bestSimilarity: number | null;
  bestEventId: string;
  bestEventHasThumbnail: boolean;
  /** Quality and detection score of the best event, to rank later observations against it. */
  bestQuality: number;
  bestDetScore: number;
  /**
   * The observations' keys (EVENT_KEY_BYTES each, from their event ids): a replayed batch finds its
   * events here and is not counted twice, also after a restart.
   */
  eventKeys: Buffer;
  /** Last write, server clock: a restarting tracker reloads the sightings written lately. */
  updatedAt: Date;
}

export interface SightingFilter {
  personId?: string | undefined;
  cameraId?: string | undefined;
  siteId?: string | undefined;
  workerId?: string | undefined;
  /** last_seen_at >= fromMs */
  fromMs?: number | undefined;
  /** first_seen_at < toMs */
  toMs?: number | undefined;
  identified?: boolean | undefined;
}

export interface SightingPage {
  sightings: SightingDoc[];
  next: Cursor | undefined;
}

const SIGHTING_ID = /^(\d{10})-[A-Za-z0-9_-]{22}$/;
const COLLECTION_PREFIX = "sightings_";

export class SightingStore {
  readonly #partitions: EventPartitions;
  readonly #directory: PartitionDirectory;

  constructor(models: IngestModels) {
    this.#partitions = new EventPartitions(models.database);
    this.#directory = new PartitionDirectory(this.#partitions);
  }

  #collection(tenantId: string, hour: string): mongo.Collection<SightingDoc> {
    const events = this.#partitions.partition("events", tenantId, hour);
    return this.#partitions.open<SightingDoc>({ ...events, collection: `${COLLECTION_PREFIX}${hour}` });
  }

  /** Writes whole sightings (insert or replace), in chunks; throws when the database fails. */
  async write(docs: SightingDoc[]): Promise<void> {
    const byCollection = Map.groupBy(docs, (d) => `${d.tenantId}\n${hourOf(d._id)}`);
    for (const ofCollection of byCollection.values()) {
      const first = ofCollection[0]!;
      const hour = hourOf(first._id);
      const collection = this.#collection(first.tenantId, hour);
      // Pages of this process find the hour at once, not at the directory's next reload.
      this.#directory.add(this.#partitions.partition("events", first.tenantId, hour));
      for (let i = 0; i < ofCollection.length; i += WRITE_CHUNK) {
        const chunk = ofCollection.slice(i, i + WRITE_CHUNK);
        await collection.bulkWrite(
          chunk.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
          { ordered: false, writeConcern: DURABLE_WRITE },
        );
      }
    }
  }

  /** Every tenant's sightings written at or after `since` (from the hours they can be in). */
  async writtenSince(since: Date): Promise<SightingDoc[]> {
    const oldestHour = Math.floor((since.getTime() - MAX_SIGHTING_MS) / HOUR_MS) * HOUR_MS;
    const hours = (await this.#partitions.list()).filter((p) => p.kind === "events" && p.start >= oldestHour);
    const found = await Promise.all(
      hours.map((p) =>
        this.#partitions
          .open<SightingDoc>({ ...p, collection: `${COLLECTION_PREFIX}${hourKey(p.start)}` })
          .find({ updatedAt: { $gte: since } })
          .toArray(),
      ),
    );
    return found.flat();
  }

  /**
   * Up to `size` sightings matching `filter`, most recently seen first (ties by id, descending),
   * after `after`. Reads hour after hour, newest first; a sighting of hour H was last seen before
   * H + 1 h + MAX_SIGHTING_MS, so once hour H is read, what is found from H + MAX_SIGHTING_MS on is
   * final. Like event pages, a page may end early (fewer than `size`, with a cursor).
   */
  async page(
    tenantId: string,
    filter: SightingFilter,
    after: Cursor | undefined,
    size: number,
  ): Promise<SightingPage> {
    const afterMs = after ? after.at.getTime() - (after.id === "" ? 1 : 0) : Number.POSITIVE_INFINITY;
    const fromMs = filter.fromMs ?? Number.NEGATIVE_INFINITY;
    const hours = (await this.#directory.list("events", tenantId))
      // A sighting starts at or before it is last seen, and ends at most MAX_SIGHTING_MS after it starts.
      .filter(
        (h) =>
          h.start <= Math.min(afterMs, (filter.toMs ?? Number.POSITIVE_INFINITY) - 1) &&
          h.start + HOUR_MS + MAX_SIGHTING_MS > fromMs,
      )
      .sort((a, b) => b.start - a.start);
    const query = toQuery(filter);
    const wanted = (s: SightingDoc) => !after || isBefore(s, after);

    const found: SightingDoc[] = [];
    const started = performance.now();
    let read = 0;
    /** Everything found at or after this is final: unread hours hold only older sightings. */
    let finalFrom = Number.POSITIVE_INFINITY;
    const final = () => found.filter((s) => s.lastSeenAt.getTime() >= finalFrom);
    while (read < hours.length && final().length <= size) {
      if (read === HOURS_PER_PAGE || (read > 0 && performance.now() - started > PAGE_READ_BUDGET_MS)) {
        return { sightings: sortNewestFirst(final()), next: { at: new Date(finalFrom), id: "" } };
      }
      const hour = hours[read++]!;
      const rows = await this.#read(tenantId, hour, query);
      for (const row of rows) if (wanted(row)) found.push(row);
      finalFrom = hour.start + MAX_SIGHTING_MS;
    }
    if (read === hours.length) finalFrom = Number.NEGATIVE_INFINITY;
    const sorted = sortNewestFirst(final());
    if (sorted.length <= size) {
      return read === hours.length
        ? { sightings: sorted, next: undefined }
        : { sightings: sorted, next: { at: new Date(finalFrom), id: "" } };
    }
    const sightings = sorted.slice(0, size);
    const last = sightings[sightings.length - 1]!;
    return { sightings, next: { at: last.lastSeenAt, id: last._id } };
  }

  #read(tenantId: string, hour: Partition, query: mongo.Filter<SightingDoc>): Promise<SightingDoc[]> {
    return this.#collection(tenantId, hourKey(hour.start))
      .find(query, { projection: { eventKeys: 0 } })
      .toArray();
  }
}

function hourOf(sightingId: string): string {
  const hour = SIGHTING_ID.exec(sightingId)?.[1];
  if (!hour) throw new Error(`not a sighting id: ${sightingId}`);
  return hour;
}

/** The filter as a query both MongoDB and FerretDB run (FerretDB still reads the whole hour). */
function toQuery(filter: SightingFilter): mongo.Filter<SightingDoc> {
  return {
    ...(filter.personId ? { personId: filter.personId } : {}),
    ...(filter.cameraId ? { cameraId: filter.cameraId } : {}),
    ...(filter.siteId ? { siteId: filter.siteId } : {}),
    ...(filter.workerId ? { workerId: filter.workerId } : {}),
    ...(filter.identified === true ? { personId: filter.personId || { $ne: null } } : {}),
    ...(filter.identified === false ? { personId: null } : {}),
    ...(filter.fromMs !== undefined ? { lastSeenAt: { $gte: new Date(filter.fromMs) } } : {}),
    ...(filter.toMs !== undefined ? { firstSeenAt: { $lt: new Date(filter.toMs) } } : {}),
  };
}

/** (lastSeenAt, id) strictly before the cursor in newest-first order. */
function isBefore(s: SightingDoc, cursor: Cursor): boolean {
  const at = cursor.at.getTime();
  const last = s.lastSeenAt.getTime();
  return last < at || (last === at && s._id < cursor.id);
}

function sortNewestFirst(sightings: SightingDoc[]): SightingDoc[] {
  return sightings.sort(
    (a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0),
  );
}

/** The internal API's shape of a stored sighting. */
export function toSighting(doc: SightingDoc): Sighting {
  return {
    id: doc._id,
    personId: doc.personId ?? "",
    trackId: doc.trackId,
    workerId: doc.workerId,
    siteId: doc.siteId,
    cameraId: doc.cameraId,
    model: doc.model,
    firstSeenAt: doc.firstSeenAt,
    lastSeenAt: doc.lastSeenAt,
    observations: doc.observations,
    ...(doc.bestSimilarity === null ? {} : { bestSimilarity: doc.bestSimilarity }),
    bestEventId: doc.bestEventId,
    bestEventHasThumbnail: doc.bestEventHasThumbnail,
  };
}
