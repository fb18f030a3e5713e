/**
 * Where sightings live, in two places, because FerretDB 1.24/SQLite converts every document of a
 * collection for any filtered read and for every update, even by `_id` (measured: 25 upserts by
 * `_id` into a collection of 1,400 sightings took 1.1 s; into an empty one 57 ms):
 *
 * - open sightings, the ones that may still change, are the tracker's, in memory; each ingest
 *   replica writes a snapshot of its own every second to `sightings_open`, packed (`<replica>~<n>`,
 *   up to SNAPSHOT_CHUNK sightings as lines of JSON), for the other replicas' pages and for the
 *   replica that takes them over after a restart;
 * - closed ones, archived by the tracker once nothing can extend them, packed like the event listing
 *   (event-listing.ts): per tenant and UTC hour of the sighting's start, `sightings_<yyyymmddhh>` in
 *   the tenant's event database of that day (event-partitions.ts), documents `<camera>~<n>` of up to
 *   BUCKET_CAPACITY sightings as lines of JSON, each written only by the process that created it.
 *
 * A page reads the open sightings and then hours newest first: a sighting of hour H was last seen
 * before H + 1 h + MAX_SIGHTING_MS, so once hour H is read, what was found from H + MAX_SIGHTING_MS
 * on is final. A sighting both archived and in a snapshot (a crash in between) is shown once.
 * Retention comes with the events: a day's database is dropped once its hours expired.
 */
import type { Sighting } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
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
/** Sightings per archive document: it is rewritten whole on every append, so it stays a few tens of KiB. */
const BUCKET_CAPACITY = 200;
/** Open sightings per snapshot document. */
const SNAPSHOT_CHUNK = 300;
/** Hours one page may read; past them (or PAGE_READ_BUDGET_MS) it ends early with a token. */
const HOURS_PER_PAGE = 24;
const PAGE_READ_BUDGET_MS = 100;
/** Hours read at once after the first. */
const MAX_PARALLEL_HOURS = 3;
/** How far back a person's last sighting is looked for. */
const LAST_SEEN_DAYS = 7;
/** Archive writers unused for this long are forgotten (their documents stay). */
const IDLE_WRITER_MS = 10 * 60_000;

export interface SightingDoc {
  /** `<yyyymmddhh of the first observation>-<22 base64url characters>`: the id names its hour. */
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

/** What an erasure does to one sighting: an edited copy, or null to drop it. */
export type SightingChange = (sighting: SightingDoc) => SightingDoc | null;

export interface SightingPage {
  sightings: SightingDoc[];
  next: Cursor | undefined;
}

interface BucketDoc {
  /** `<camera>~<number>`, numbered from 0 per camera and hour. */
  _id: string;
  c: string;
  /** Distinct workers, sites and people (null: unknown faces) of its sightings, to skip it. */
  w: string[];
  s: string[];
  p: (string | null)[];
  n: number;
  /** One sighting per line (see encode/decode). */
  v: string;
}

/** The bucket this process appends to for one camera in one hour. */
interface BucketWriter {
  collection: mongo.Collection<BucketDoc>;
  camera: string;
  number: number;
  claimed: boolean;
  lines: string[];
  usedAt: number;
}

interface SnapshotDoc {
  /** `<replica>~<n>` */
  _id: string;
  replica: string;
  n: number;
  /** One open sighting per line: tenant, camera, then as archived (see encode). */
  v: string;
}

/** An ingest replica's open sightings, as its pages read them. */
export interface LiveSightings {
  replicaId: string;
  sightings: SightingDoc[];
}

const SIGHTING_ID = /^(\d{10})-[A-Za-z0-9_-]{22}$/;
const bucketId = (camera: string, number: number) => `${camera}~${number}`;

export class SightingStore {
  readonly #partitions: EventPartitions;
  readonly #directory: PartitionDirectory;
  readonly #open: mongo.Collection<SnapshotDoc>;
  readonly #writers = new Map<string, BucketWriter>();

  constructor(models: IngestModels) {
    this.#partitions = new EventPartitions(models.database);
    this.#directory = new PartitionDirectory(this.#partitions);
    this.#open = models.database.collection<SnapshotDoc>("sightings_open");
  }

  #archive(
    tenantId: string,
    hour: string,
  ): { partition: Partition; collection: mongo.Collection<BucketDoc> } {
    const partition = this.#partitions.partition("events", tenantId, hour);
    const collection = this.#partitions.open<BucketDoc>({ ...partition, collection: `sightings_${hour}` });
    return { partition, collection };
  }

  /** Replaces `replicaId`'s snapshot of its open sightings; throws when the database fails. */
  async writeSnapshot(replicaId: string, open: SightingDoc[]): Promise<void> {
    let n = 0;
    for (let i = 0; i < open.length; i += SNAPSHOT_CHUNK, n++) {
      const lines = open.slice(i, i + SNAPSHOT_CHUNK).map(encodeOpen);
      await this.#open.replaceOne(
        { _id: `${replicaId}~${n}` },
        { replica: replicaId, n, v: lines.join("\n") },
        { upsert: true, writeConcern: DURABLE_WRITE },
      );
    }
    await this.#open.deleteMany({ replica: replicaId, n: { $gte: n } }, { writeConcern: DURABLE_WRITE });
  }

  /** Every replica's snapshot of open sightings, by replica. */
  async snapshots(): Promise<Map<string, SightingDoc[]>> {
    const docs = await this.#open.find({}).toArray();
    const byReplica = new Map<string, SightingDoc[]>();
    for (const doc of docs) {
      const list = byReplica.get(doc.replica) ?? [];
      for (const line of doc.v ? doc.v.split("\n") : []) list.push(decodeOpen(line));
      byReplica.set(doc.replica, list);
    }
    return byReplica;
  }

  /** Removes the snapshots of replicas whose open sightings were taken over. */
  async dropSnapshots(replicaIds: string[]): Promise<void> {
    if (replicaIds.length === 0) return;
    await this.#open.deleteMany({ replica: { $in: replicaIds } }, { writeConcern: DURABLE_WRITE });
  }

  /** Appends closed sightings to their hours' archive. */
  async archive(docs: SightingDoc[]): Promise<void> {
    const byBucket = Map.groupBy(docs, (d) => `${d.tenantId}\n${hourOf(d._id)}\n${d.cameraId}`);
    for (const ofBucket of byBucket.values()) {
      const first = ofBucket[0]!;
      await this.#append(first.tenantId, hourOf(first._id), first.cameraId, ofBucket);
    }
    this.#forgetIdleWriters();
  }

  /** Appends one camera's sightings of one hour to its archive, opening the next bucket when full. */
  async #append(tenantId: string, hour: string, camera: string, docs: SightingDoc[]): Promise<void> {
    const key = `${tenantId}\n${hour}\n${camera}`;
    let writer = this.#writers.get(key);
    const { partition, collection } = this.#archive(tenantId, hour);
    if (!writer) {
      writer = { collection, camera, number: 0, claimed: false, lines: [], usedAt: 0 };
      this.#writers.set(key, writer);
    }
    writer.usedAt = Date.now();
    await this.#partitions.record(partition);
    let pending = docs.map((d) => JSON.stringify(encode(d)));
    while (pending.length > 0) {
      if (writer.lines.length >= BUCKET_CAPACITY) {
        Object.assign(writer, { number: writer.number + 1, claimed: false, lines: [] });
      }
      const room = BUCKET_CAPACITY - writer.lines.length;
      const lines = [...writer.lines, ...pending.slice(0, room)];
      await this.#store(writer, lines);
      writer.lines = lines;
      pending = pending.slice(room);
    }
    // Pages of this process find the hour at once, not at the directory's next reload.
    this.#directory.add(partition);
  }

  /** Writes a bucket whole: claimed by inserting it under the lowest free number, then ours alone. */
  async #store(writer: BucketWriter, lines: string[]): Promise<void> {
    const doc = bucketContent(writer.camera, lines);
    while (!writer.claimed) {
      try {
        await writer.collection.insertOne(
          { _id: bucketId(writer.camera, writer.number), ...doc },
          { writeConcern: DURABLE_WRITE },
        );
        writer.claimed = true;
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        writer.number++;
      }
    }
    await writer.collection.replaceOne({ _id: bucketId(writer.camera, writer.number) }, doc, {
      upsert: true,
      writeConcern: DURABLE_WRITE,
    });
  }

  /**
   * The most recently seen sighting of each of `personIds` (at most one each): the open ones, then
   * the archive's hours newest first until every person's is final (no unread hour can hold a later
   * one), LAST_SEEN_DAYS of hours are read, or about PAGE_READ_BUDGET_MS passed. People with none
   * found are left out.
   */
  async lastOf(tenantId: string, personIds: string[], live: LiveSightings): Promise<SightingDoc[]> {
    const best = new Map<string, SightingDoc>();
    const unresolved = new Set(personIds);
    const keep = (s: SightingDoc) => {
      if (!s.personId || !unresolved.has(s.personId)) return;
      const seen = best.get(s.personId);
      if (!seen || seen.lastSeenAt < s.lastSeenAt) best.set(s.personId, s);
    };
    const [snapshots, listed] = await Promise.all([
      this.snapshots(),
      this.#directory.list("events", tenantId),
    ]);
    for (const s of live.sightings) keep(s);
    for (const [replica, sightings] of snapshots)
      if (replica !== live.replicaId) for (const s of sightings) if (s.tenantId === tenantId) keep(s);
    const oldest = Date.now() - LAST_SEEN_DAYS * 24 * HOUR_MS;
    const hours = listed.filter((h) => h.start >= oldest).sort((a, b) => b.start - a.start);
    const started = performance.now();
    for (let read = 0; read < hours.length && unresolved.size > 0; ) {
      if (read > 0 && performance.now() - started > PAGE_READ_BUDGET_MS) break;
      const batch = hours.slice(read, read + MAX_PARALLEL_HOURS);
      read += batch.length;
      const filter = { p: { $in: [...unresolved] } };
      const bucketsByHour = await Promise.all(
        batch.map((hour) => this.#buckets(tenantId, hour, filter, undefined)),
      );
      for (const bucket of bucketsByHour.flat())
        for (const line of linesOf(bucket)) keep(decode(JSON.parse(line), bucket.c, tenantId));
      // Unread hours hold sightings last seen before this: what was found at or after it is final.
      const finalFrom = batch.at(-1)!.start + MAX_SIGHTING_MS;
      for (const [personId, s] of best) if (s.lastSeenAt.getTime() >= finalFrom) unresolved.delete(personId);
    }
    return [...best.values()];
  }

  /**
   * Applies `change` to the tenant's archived sightings of `personId` begun in `hours`
   * (`yyyymmddhh`); returns how many it was given. Only in turn with archive() (the tracker sees to
   * it): a bucket this process appends to is edited together with its writer's lines. An emptied
   * bucket stays (a camera's buckets are read by number until the first missing one).
   */
  async editPerson(tenantId: string, personId: string, hours: string[], change: SightingChange) {
    let changed = 0;
    const edit = (lines: string[], camera: string) =>
      lines.flatMap((line) => {
        const sighting = decode(JSON.parse(line), camera, tenantId);
        if (sighting.personId !== personId) return [line];
        changed++;
        const edited = change(sighting);
        return edited ? [JSON.stringify(encode(edited))] : [];
      });
    for (const hour of hours) {
      const { collection } = this.#archive(tenantId, hour);
      for (const bucket of await collection.find({ p: personId }).toArray()) {
        const writer = this.#writers.get(`${tenantId}\n${hour}\n${bucket.c}`);
        if (writer?.claimed && bucket._id === bucketId(writer.camera, writer.number)) {
          const lines = edit(writer.lines, writer.camera);
          await this.#store(writer, lines);
          writer.lines = lines;
        } else {
          const lines = edit(linesOf(bucket), bucket.c);
          await collection.replaceOne({ _id: bucket._id }, bucketContent(bucket.c, lines), {
            writeConcern: DURABLE_WRITE,
          });
        }
      }
    }
    return changed;
  }

  #forgetIdleWriters(): void {
    if (this.#writers.size < 256) return;
    const cutoff = Date.now() - IDLE_WRITER_MS;
    for (const [key, writer] of this.#writers) if (writer.usedAt < cutoff) this.#writers.delete(key);
  }

  /** One hour's archive documents that can hold wanted sightings: a camera's by `_id`, else all that match. */
  async #buckets(
    tenantId: string,
    hour: Partition,
    filter: Record<string, unknown>,
    camera: string | undefined,
  ): Promise<BucketDoc[]> {
    const { collection } = this.#archive(tenantId, hourKey(hour.start));
    // By `_id` one at a time, FerretDB converts only the camera's documents, not the whole hour.
    if (!camera) return collection.find(filter).toArray();
    const buckets: BucketDoc[] = [];
    for (let number = 0; ; number++) {
      const bucket = await collection.findOne({ _id: bucketId(camera, number) });
      if (!bucket) return buckets;
      buckets.push(bucket);
    }
  }

  /**
   * Up to `size` sightings matching `filter`, most recently seen first (ties by id, descending),
   * after `after`. Like event pages, a page may end early (fewer than `size`, with a cursor).
   */
  async page(
    tenantId: string,
    filter: SightingFilter,
    after: Cursor | undefined,
    size: number,
    live: LiveSightings,
  ): Promise<SightingPage> {
    const afterMs = after ? after.at.getTime() - (after.id === "" ? 1 : 0) : Number.POSITIVE_INFINITY;
    const fromMs = filter.fromMs ?? Number.NEGATIVE_INFINITY;
    const wanted = (s: SightingDoc) => matches(s, filter) && (!after || isBefore(s, after));
    const found = new Map<string, SightingDoc>();
    /** Keeps the most advanced copy of a sighting found twice (a snapshot and the archive, ...). */
    const keep = (s: SightingDoc) => {
      const seen = found.get(s._id);
      if (!seen || seen.observations < s.observations) found.set(s._id, s);
    };
    const [snapshots, listed] = await Promise.all([
      this.snapshots(),
      this.#directory.list("events", tenantId),
    ]);
    const open = [...live.sightings];
    for (const [replica, sightings] of snapshots) {
      if (replica !== live.replicaId) open.push(...sightings.filter((s) => s.tenantId === tenantId));
    }
    for (const s of open) if (wanted(s)) keep(s);

    const hours = listed
      .filter(
        (h) =>
          h.start <= Math.min(afterMs, (filter.toMs ?? Number.POSITIVE_INFINITY) - 1) &&
          h.start + HOUR_MS + MAX_SIGHTING_MS > fromMs,
      )
      .sort((a, b) => b.start - a.start);
    const bucketFilter = {
      ...(filter.workerId ? { w: filter.workerId } : {}),
      ...(filter.siteId ? { s: filter.siteId } : {}),
      ...(filter.personId ? { p: filter.personId } : {}),
      ...(filter.identified === false ? { p: null } : {}),
    };
    const started = performance.now();
    let read = 0;
    /** Everything found at or after this is final: unread hours hold only older sightings. */
    let finalFrom = Number.POSITIVE_INFINITY;
    const final = () => [...found.values()].filter((s) => s.lastSeenAt.getTime() >= finalFrom);
    while (read < hours.length && final().length <= size) {
      if (read === HOURS_PER_PAGE || (read > 0 && performance.now() - started > PAGE_READ_BUDGET_MS)) {
        return { sightings: sortNewestFirst(final()), next: { at: new Date(finalFrom), id: "" } };
      }
      // The first hour alone (it often fills the page), then as many as the rate so far says are
      // missing, a few at a time so the database reads them in parallel.
      const perHour = found.size / Math.max(read, 1);
      const wave =
        read === 0
          ? 1
          : Math.min(MAX_PARALLEL_HOURS, Math.ceil((size + 1 - final().length) / Math.max(perHour, 1)));
      const batch = hours.slice(read, Math.min(read + wave, HOURS_PER_PAGE));
      read += batch.length;
      const bucketsByHour = await Promise.all(
        batch.map((hour) => this.#buckets(tenantId, hour, bucketFilter, filter.cameraId)),
      );
      for (const bucket of bucketsByHour.flat()) {
        for (const line of linesOf(bucket)) {
          const s = decode(JSON.parse(line), bucket.c, tenantId);
          if (wanted(s)) keep(s);
        }
      }
      finalFrom = batch[batch.length - 1]!.start + MAX_SIGHTING_MS;
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
}

/** An archive document's lines; none once an erasure emptied it. */
const linesOf = (bucket: Pick<BucketDoc, "v">) => (bucket.v ? bucket.v.split("\n") : []);

/** An archive document holding `lines` (encoded sightings of one camera). */
function bucketContent(camera: string, lines: string[]): Omit<BucketDoc, "_id"> {
  const decoded = lines.map((line) => decode(JSON.parse(line), camera, ""));
  return {
    c: camera,
    w: [...new Set(decoded.map((d) => d.workerId))],
    s: [...new Set(decoded.map((d) => d.siteId))],
    p: [...new Set(decoded.map((d) => d.personId))],
    n: lines.length,
    v: lines.join("\n"),
  };
}

function hourOf(sightingId: string): string {
  const hour = SIGHTING_ID.exec(sightingId)?.[1];
  if (!hour) throw new Error(`not a sighting id: ${sightingId}`);
  return hour;
}

function matches(s: SightingDoc, filter: SightingFilter): boolean {
  return (
    (!filter.personId || s.personId === filter.personId) &&
    (!filter.cameraId || s.cameraId === filter.cameraId) &&
    (!filter.siteId || s.siteId === filter.siteId) &&
    (!filter.workerId || s.workerId === filter.workerId) &&
    (filter.identified === undefined || filter.identified === (s.personId !== null)) &&
    (filter.fromMs === undefined || s.lastSeenAt.getTime() >= filter.fromMs) &&
    (filter.toMs === undefined || s.firstSeenAt.getTime() < filter.toMs)
  );
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

type Encoded = [
  string,
  string,
  string | null,
  number,
  string,
  string,
  string,
  number,
  number,
  number,
  number | null,
  string,
  number,
  number,
  number,
];

/** One archived sighting: a fixed-order array without what the bucket or hour says. */
function encode(s: SightingDoc): Encoded {
  return [
    s._id,
    s.subject,
    s.personId,
    s.trackId,
    s.workerId,
    s.siteId,
    s.model,
    s.firstSeenAt.getTime(),
    s.lastSeenAt.getTime() - s.firstSeenAt.getTime(),
    s.observations,
    s.bestSimilarity,
    s.bestEventId,
    s.bestEventHasThumbnail ? 1 : 0,
    s.bestQuality,
    s.bestDetScore,
  ];
}

function decode(fields: Encoded, cameraId: string, tenantId: string): SightingDoc {
  const [
    _id,
    subject,
    personId,
    trackId,
    workerId,
    siteId,
    model,
    first,
    span,
    observations,
    bestSimilarity,
    bestEventId,
    hasThumbnail,
    bestQuality,
    bestDetScore,
  ] = fields;
  return {
    _id,
    tenantId,
    subject,
    personId,
    trackId,
    workerId,
    siteId,
    cameraId,
    model,
    firstSeenAt: new Date(first),
    lastSeenAt: new Date(first + span),
    observations,
    bestSimilarity,
    bestEventId,
    bestEventHasThumbnail: hasThumbnail === 1,
    bestQuality,
    bestDetScore,
  };
}

const encodeOpen = (s: SightingDoc) => JSON.stringify([s.tenantId, s.cameraId, encode(s)]);

function decodeOpen(line: string): SightingDoc {
  const [tenantId, cameraId, fields] = JSON.parse(line) as [string, string, Encoded];
  return decode(fields, cameraId, tenantId);
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
