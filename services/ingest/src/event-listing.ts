/**
 * The read model behind event listing: what a page of events needs, kept so that a page costs a few
 * small reads however many events are stored (see services/ingest/bench/events.bench.ts).
 *
 * FerretDB 1.24/SQLite reads and converts every document of a collection for a filtered query, at
 * about 30 µs for a 3-field document and 200+ µs for a full event; what it reads cheaply is few,
 * large documents, and one document by `_id` (a scan in SQLite, but only the match is converted).
 * So, within each tenant's hour (event-partitions.ts), events are packed into buckets: documents of
 * one camera, `<camera>~0`, `<camera>~1`, …, each holding up to BUCKET_CAPACITY events as lines of
 * JSON. A page filtered by camera reads that camera's buckets by `_id`; otherwise it reads the hour's
 * buckets, the arrays `w`, `s` and `p` (the bucket's workers, sites and matched people) letting a
 * filter by worker, site or person skip the others. A page reads the newest hours only.
 *
 * A bucket has exactly one writer: the process that created it (an insert, so two cannot), which
 * serialises its appends to it. FerretDB's update is a read then a write; two writers of one
 * document would lose each other's events. An event may be appended twice (a replayed batch whose
 * first append succeeded): pages drop the repeat, which is always in the same hour.
 */

import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import type { Cursor } from "@facerec/shared/db/pagination.ts";
import type { mongo } from "mongoose";
import {
  type EventPartitions,
  HOUR_MS,
  hourKey,
  type Partition,
  type PartitionDirectory,
} from "./event-partitions.ts";

/** Events per bucket: a bucket is rewritten whole on every append, so it stays a few tens of KiB. */
const BUCKET_CAPACITY = 200;
/**
 * Appends of at least this many events start a bucket of their own: an insert costs the same however
 * many buckets the hour holds, while rewriting one means FerretDB scanning them all (measured: 8 ms
 * with 1 bucket of 60 KB in the hour, 75 ms with 200; an insert 1-2.5 ms). Small appends, the usual
 * case of a camera's worker, still fill a bucket, so an hour stays a few documents per camera.
 */
const FRESH_BUCKET_EVENTS = BUCKET_CAPACITY / 4;
/**
 * Hours one page may read. A filter that matches nothing recent would otherwise read back through
 * the whole retention window in one request; past this budget the page ends early, with a token.
 */
export const HOURS_PER_PAGE = 24;
/** Past this much reading, a page ends early (with a token) rather than read the next hours. */
const PAGE_READ_BUDGET_MS = 100;
/** Hours read at once after the first. */
const MAX_PARALLEL_HOURS = 3;
/** Open buckets unused for this long are forgotten (their documents stay; later events open new ones). */
const IDLE_BUCKET_MS = 10 * 60 * 1000;

/** What a page shows of one event: everything but the embedding and the thumbnail. */
export interface ListedEvent {
  id: string;
  batchId: string;
  workerId: string;
  siteId: string;
  cameraId: string;
  keyId: string;
  capturedAt: number;
  receivedAt: number;
  frameSeq: number;
  bbox: { x: number; y: number; width: number; height: number };
  landmarks: number[];
  detScore: number;
  embeddingDim: number;
  model: string;
  quality: number;
  trackId: number;
  hasThumbnail: boolean;
  /** The match made at ingest (matcher.ts); nulls when unmatched. */
  personId: string | null;
  similarity: number | null;
  faceId: string | null;
}

export interface ListingFilter {
  siteId?: string | undefined;
  cameraId?: string | undefined;
  workerId?: string | undefined;
  personId?: string | undefined;
  /** Inclusive, ms since the epoch. */
  fromMs?: number | undefined;
  /** Exclusive, ms since the epoch. */
  toMs?: number | undefined;
}

export interface ListingPage {
  events: ListedEvent[];
  /** Where the next page starts; undefined after the oldest event. */
  next: Cursor | undefined;
}

interface BucketDoc {
  /** `<camera>~<number>`: numbered from 0 per camera and hour, so a reader can name them all. */
  _id: string;
  /** Camera. */
  c: string;
  /** Distinct workers of the bucket's events. */
  w: string[];
  /** Distinct sites. */
  s: string[];
  /** Distinct matched people (absent on buckets written before matching). */
  p?: string[];
  /** The strings the lines refer to by position (workers, sites, keys, models): most repeat. */
  d: string[];
  /** Number of lines in `v`. */
  n: number;
  /** The events, one JSON array per line (see encode/decode). */
  v: string;
}

/** The bucket this process appends to for one camera in one hour, and the appends waiting for it. */
interface CameraWriter {
  collection: mongo.Collection<BucketDoc>;
  camera: string;
  /** The bucket's number; it is ours once `claimed`. */
  number: number;
  claimed: boolean;
  lines: string[];
  workers: Set<string>;
  sites: Set<string>;
  people: Set<string>;
  dictionary: string[];
  /** Appends, and edits of the bucket numbered `edit.number` (an erasure), in arrival order. */
  waiting: {
    events: ListedEvent[];
    edit?: { number: number; change: EventChange };
    resolve: () => void;
    reject: (err: unknown) => void;
  }[];
  writing: boolean;
  usedAt: number;
}

/** What an erasure does to one listed event: keeps it as is, returns an edited copy, or drops it (null). */
export type EventChange = (event: ListedEvent) => ListedEvent | null;

/** `~` is in no camera id ([A-Za-z0-9._-]), so a bucket id names one camera and number. */
const bucketId = (camera: string, number: number) => `${camera}~${number}`;

export class EventListing {
  readonly #partitions: EventPartitions;
  readonly #writeConcern: mongo.WriteConcernSettings;
  readonly #directory: PartitionDirectory;
  /** Per hour collection and camera. */
  readonly #writers = new Map<string, CameraWriter>();

  constructor(
    partitions: EventPartitions,
    directory: PartitionDirectory,
    writeConcern: mongo.WriteConcernSettings,
  ) {
    this.#partitions = partitions;
    this.#directory = directory;
    this.#writeConcern = writeConcern;
  }

  /** Adds events to their hours' listing. */
  async append(tenantId: string, events: ListedEvent[]): Promise<void> {
    // A batch is one camera's, mostly of one hour; events moved from an older layout are not.
    const byHourAndCamera = Map.groupBy(events, (e) => `${hourKey(e.capturedAt)}\n${e.cameraId}`);
    await Promise.all(
      [...byHourAndCamera].map(async ([key, ofHour]) => {
        const partition = this.#partitions.partition("event_pages", tenantId, key.split("\n")[0]!);
        await this.#partitions.record(partition);
        await this.#enqueue(partition, ofHour);
        this.#directory.add(partition);
      }),
    );
    this.#forgetIdleWriters();
  }

  #enqueue(partition: Partition, events: ListedEvent[]): Promise<void> {
    const camera = events[0]!.cameraId;
    const key = `${partition.db}/${partition.collection}\n${camera}`;
    let writer = this.#writers.get(key);
    if (!writer) {
      writer = {
        collection: this.#partitions.open<BucketDoc>(partition),
        camera,
        number: 0,
        claimed: false,
        lines: [],
        workers: new Set(),
        sites: new Set(),
        people: new Set(),
        dictionary: [],
        waiting: [],
        writing: false,
        usedAt: 0,
      };
      this.#writers.set(key, writer);
    }
    writer.usedAt = Date.now();
    const target = writer;
    return new Promise<void>((resolve, reject) => {
      target.waiting.push({ events, resolve, reject });
      if (!target.writing) void this.#drain(target);
    });
  }

  /**
   * Writes what waits, one bucket write at a time: appends that arrive during a write go together
   * in the next one (a group commit), so a burst costs a few writes, not one per batch.
   */
  async #drain(writer: CameraWriter): Promise<void> {
    writer.writing = true;
    while (writer.waiting.length > 0) {
      const head = writer.waiting[0]!;
      if (head.edit) {
        writer.waiting.shift();
        await this.#edit(writer, head.edit.number, head.edit.change).then(head.resolve, head.reject);
        continue;
      }
      const waiting = writer.waiting.reduce((n, w) => n + w.events.length, 0);
      if (
        writer.lines.length > 0 &&
        (writer.lines.length + writer.waiting[0]!.events.length > BUCKET_CAPACITY ||
          waiting >= FRESH_BUCKET_EVENTS)
      ) {
        // Full, or enough waits to make a bucket of its own: the next appends open the next bucket.
        Object.assign(writer, {
          number: writer.number + 1,
          claimed: false,
          lines: [],
          workers: new Set(),
          sites: new Set(),
          people: new Set(),
          dictionary: [],
        });
      }
      let room = BUCKET_CAPACITY - writer.lines.length;
      const taken: CameraWriter["waiting"] = [];
      // At least one append: a bucket holds at least one whole batch.
      while (writer.waiting.length > 0 && (taken.length === 0 || writer.waiting[0]!.events.length <= room)) {
        const next = writer.waiting.shift()!;
        room -= next.events.length;
        taken.push(next);
      }
      const events = taken.flatMap((t) => t.events);
      const dictionary = [...writer.dictionary];
      const lines = [...writer.lines, ...events.map((e) => encode(e, dictionary))];
      const workers = new Set([...writer.workers, ...events.map((e) => e.workerId)]);
      const sites = new Set([...writer.sites, ...events.map((e) => e.siteId)]);
      const people = new Set([...writer.people, ...events.flatMap((e) => (e.personId ? [e.personId] : []))]);
      const doc = {
        c: writer.camera,
        w: [...workers],
        s: [...sites],
        p: [...people],
        d: dictionary,
        n: lines.length,
        v: lines.join("\n"),
      };
      try {
        await this.#store(writer, doc);
        // Only what is stored becomes the bucket's state: a failed write is redone by the batch's replay.
        Object.assign(writer, { lines, workers, sites, people, dictionary });
        for (const t of taken) t.resolve();
      } catch (err) {
        for (const t of taken) t.reject(err);
      }
    }
    writer.writing = false;
  }

  /**
   * Writes a bucket's whole content. A new bucket is claimed by inserting it under the lowest free
   * number (a replica or an earlier run of this process may own the next ones); after that it is
   * ours alone and is replaced in place.
   */
  async #store(writer: CameraWriter, doc: Omit<BucketDoc, "_id">): Promise<void> {
    while (!writer.claimed) {
      try {
        await writer.collection.insertOne(
          { _id: bucketId(writer.camera, writer.number), ...doc },
          { writeConcern: this.#writeConcern },
        );
        writer.claimed = true;
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        writer.number++;
      }
    }
    // Upsert: a bucket whose hour the retention sweep dropped meanwhile is made again.
    await writer.collection.replaceOne({ _id: bucketId(writer.camera, writer.number) }, doc, {
      upsert: true,
      writeConcern: this.#writeConcern,
    });
  }

  /** The hours (`yyyymmddhh`) in which the tenant's listing names `personId`, oldest first. */
  async personHours(tenantId: string, personId: string): Promise<string[]> {
    const hours: string[] = [];
    for (const partition of await this.#tenantHours(tenantId)) {
      const found = await this.#partitions
        .open<BucketDoc>(partition)
        .findOne({ p: personId }, { projection: { _id: 1 } });
      if (found) hours.push(hourKey(partition.start));
    }
    return hours.sort();
  }

  /**
   * Applies `change` to every listed event of `personId` in the tenant's hours (the erasure of a
   * deleted person); returns how many events it was given. A bucket this listing is appending to
   * is edited by its writer, in turn with the appends (the writer's lines are what its next append
   * writes); any other in place. So the erasure must use the listing ingest appends through
   * (EventStore.listing).
   */
  async editPerson(tenantId: string, personId: string, change: EventChange): Promise<number> {
    let changed = 0;
    const counting: EventChange = (event) => {
      if (event.personId !== personId) return event;
      changed++;
      return change(event);
    };
    for (const partition of await this.#tenantHours(tenantId)) {
      const collection = this.#partitions.open<BucketDoc>(partition);
      const buckets = await collection.find({ p: personId }, { projection: { _id: 1 } }).toArray();
      for (const { _id } of buckets) {
        const split = _id.lastIndexOf("~");
        const camera = _id.slice(0, split);
        const edit = { number: Number(_id.slice(split + 1)), change: counting };
        const writer = this.#writers.get(`${partition.db}/${partition.collection}\n${camera}`);
        if (!writer) {
          await this.#editStored(collection, _id, counting);
          continue;
        }
        await new Promise<void>((resolve, reject) => {
          writer.waiting.push({ events: [], edit, resolve, reject });
          if (!writer.writing) void this.#drain(writer);
        });
      }
    }
    return changed;
  }

  /** The tenant's listing hours, as stored now (every replica's). */
  async #tenantHours(tenantId: string): Promise<Partition[]> {
    return (await this.#partitions.list()).filter((p) => this.#partitions.isOf(p, "event_pages", tenantId));
  }

  /** Edits bucket `number` of a writer's camera: from the writer's lines while it appends to it. */
  async #edit(writer: CameraWriter, number: number, change: EventChange): Promise<void> {
    if (number !== writer.number || !writer.claimed) {
      return this.#editStored(writer.collection, bucketId(writer.camera, number), change);
    }
    const events = writer.lines.map((line) => decode(line, { c: writer.camera, d: writer.dictionary }));
    const edited = rebucket(
      writer.camera,
      events.flatMap((e) => change(e) ?? []),
    );
    if (edited.n === writer.lines.length && edited.v === writer.lines.join("\n")) return;
    await this.#store(writer, edited);
    Object.assign(writer, {
      lines: edited.n > 0 ? edited.v.split("\n") : [],
      workers: new Set(edited.w),
      sites: new Set(edited.s),
      people: new Set(edited.p),
      dictionary: edited.d,
    });
  }

  /**
   * Edits a bucket no writer of this process holds. An empty bucket is kept, not deleted: a camera's
   * buckets are read by number until the first missing one.
   */
  async #editStored(collection: mongo.Collection<BucketDoc>, id: string, change: EventChange): Promise<void> {
    const bucket = await collection.findOne({ _id: id });
    if (!bucket) return;
    const events = linesOf(bucket).map((line) => decode(line, bucket));
    const edited = rebucket(
      bucket.c,
      events.flatMap((e) => change(e) ?? []),
    );
    if (edited.v === bucket.v) return;
    await collection.replaceOne({ _id: id }, edited, { writeConcern: this.#writeConcern });
  }

  #forgetIdleWriters(): void {
    if (this.#writers.size < 256) return;
    const cutoff = Date.now() - IDLE_BUCKET_MS;
    for (const [key, writer] of this.#writers) {
      if (!writer.writing && writer.usedAt < cutoff) this.#writers.delete(key);
    }
  }

  /** One hour's buckets that can hold wanted events: a camera's by `_id`, else all that match. */
  async #buckets(
    hour: Partition,
    filter: Record<string, string>,
    camera: string | undefined,
  ): Promise<BucketDoc[]> {
    const collection = this.#partitions.open<BucketDoc>(hour);
    // By `_id` one at a time, FerretDB converts only the camera's buckets, not the whole hour.
    if (!camera) return collection.find(filter).toArray();
    const buckets: BucketDoc[] = [];
    for (let number = 0; ; number++) {
      const bucket = await collection.findOne({ _id: bucketId(camera, number) });
      if (!bucket) return buckets;
      buckets.push(bucket);
    }
  }

  /**
   * Up to `size` events matching `filter`, newest capture first (ties by id, descending), after
   * `after`. Reads hour after hour, newest first, at most HOURS_PER_PAGE of them or for about
   * PAGE_READ_BUDGET_MS: a page can hold fewer than `size` events (none, for a filter that matches
   * nothing lately) and still have a next cursor.
   */
  async page(
    tenantId: string,
    filter: ListingFilter,
    after: Cursor | undefined,
    size: number,
  ): Promise<ListingPage> {
    // Newest hour that can hold a wanted event, and the oldest.
    const afterMs = after ? after.at.getTime() - (after.id === "" ? 1 : 0) : Number.POSITIVE_INFINITY;
    const newestMs = Math.min(afterMs, (filter.toMs ?? Number.POSITIVE_INFINITY) - 1);
    const oldestMs = filter.fromMs ?? Number.NEGATIVE_INFINITY;
    const hours = (await this.#directory.list("event_pages", tenantId))
      .filter((h) => h.start <= newestMs && h.start + HOUR_MS > oldestMs)
      .sort((a, b) => b.start - a.start);

    const wanted = (e: ListedEvent) =>
      (!filter.cameraId || e.cameraId === filter.cameraId) &&
      (!filter.workerId || e.workerId === filter.workerId) &&
      (!filter.siteId || e.siteId === filter.siteId) &&
      (!filter.personId || e.personId === filter.personId) &&
      (filter.fromMs === undefined || e.capturedAt >= filter.fromMs) &&
      (filter.toMs === undefined || e.capturedAt < filter.toMs) &&
      (!after || isBefore(e, after));
    const bucketFilter = {
      ...(filter.workerId ? { w: filter.workerId } : {}),
      ...(filter.siteId ? { s: filter.siteId } : {}),
      ...(filter.personId ? { p: filter.personId } : {}),
    };

    const found: ListedEvent[] = [];
    const started = performance.now();
    let read = 0;
    while (read < hours.length && found.length <= size) {
      if (read === HOURS_PER_PAGE || (read > 0 && performance.now() - started > PAGE_READ_BUDGET_MS)) {
        // Out of budget: every wanted event of the hours read is in `found`, fewer than a page.
        return { events: sortNewestFirst(found), next: { at: new Date(hours[read - 1]!.start), id: "" } };
      }
      // The first hour alone (it usually fills the page), then as many as the rate so far says
      // are missing, a few at a time so FerretDB reads them in parallel.
      const perHour = found.length / Math.max(read, 1);
      const wave =
        read === 0
          ? 1
          : Math.min(MAX_PARALLEL_HOURS, Math.ceil((size + 1 - found.length) / Math.max(perHour, 1)));
      const batch = hours.slice(read, Math.min(read + wave, HOURS_PER_PAGE));
      read += batch.length;
      const bucketsByHour = await Promise.all(
        batch.map((hour) => this.#buckets(hour, bucketFilter, filter.cameraId)),
      );
      for (const buckets of bucketsByHour) {
        // A repeat (a replayed batch) is always in the same hour as the event it repeats.
        const seen = new Set<string>();
        for (const bucket of buckets) {
          for (const line of linesOf(bucket)) {
            const event = decode(line, bucket);
            if (!wanted(event) || seen.has(event.id)) continue;
            seen.add(event.id);
            found.push(event);
          }
        }
      }
    }
    const sorted = sortNewestFirst(found);
    if (sorted.length <= size) return { events: sorted, next: undefined };
    const events = sorted.slice(0, size);
    const last = events[events.length - 1]!;
    return { events, next: { at: new Date(last.capturedAt), id: last.id } };
  }
}

/** A bucket's lines; none in a bucket whose events were all erased. */
const linesOf = (bucket: Pick<BucketDoc, "v">) => (bucket.v ? bucket.v.split("\n") : []);

/** A bucket's content for `events`, with a dictionary of its own (no string of a dropped event left). */
function rebucket(camera: string, events: ListedEvent[]): Omit<BucketDoc, "_id"> {
  const dictionary: string[] = [];
  const lines = events.map((e) => encode(e, dictionary));
  return {
    c: camera,
    w: [...new Set(events.map((e) => e.workerId))],
    s: [...new Set(events.map((e) => e.siteId))],
    p: [...new Set(events.flatMap((e) => (e.personId ? [e.personId] : [])))],
    d: dictionary,
    n: lines.length,
    v: lines.join("\n"),
  };
}

/** (capturedAt, id) strictly before the cursor in newest-first order. */
function isBefore(e: ListedEvent, cursor: Cursor): boolean {
  const at = cursor.at.getTime();
  return e.capturedAt < at || (e.capturedAt === at && e.id < cursor.id);
}

function sortNewestFirst(events: ListedEvent[]): ListedEvent[] {
  return events.sort((a, b) => b.capturedAt - a.capturedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** The position of `value` in `dictionary`, added at the end when new. */
function indexIn(dictionary: string[], value: string): number {
  const index = dictionary.indexOf(value);
  return index >= 0 ? index : dictionary.push(value) - 1;
}

/**
 * One line of a bucket: a JSON array in a fixed field order, the bucket's camera left out, repeated
 * strings as positions in the bucket's dictionary, receivedAt as its lag behind capturedAt (a third
 * of the bytes of an object: FerretDB's cost is in the bytes it converts).
 */
function encode(e: ListedEvent, dictionary: string[]): string {
  return JSON.stringify([
    e.id,
    e.batchId,
    indexIn(dictionary, e.workerId),
    indexIn(dictionary, e.siteId),
    indexIn(dictionary, e.keyId),
    e.capturedAt,
    e.receivedAt - e.capturedAt,
    e.frameSeq,
    e.bbox.x,
    e.bbox.y,
    e.bbox.width,
    e.bbox.height,
    e.landmarks,
    e.detScore,
    e.embeddingDim,
    indexIn(dictionary, e.model),
    e.quality,
    e.trackId,
    e.hasThumbnail ? 1 : 0,
    // Matched: person and face through the dictionary; unmatched lines end here (as lines written
    // before matching existed do).
    ...(e.personId
      ? [indexIn(dictionary, e.personId), e.similarity, indexIn(dictionary, e.faceId ?? "")]
      : []),
  ]);
}

function decode(line: string, bucket: Pick<BucketDoc, "c" | "d">): ListedEvent {
  const [
    id,
    batchId,
    worker,
    site,
    key,
    capturedAt,
    lag,
    frameSeq,
    x,
    y,
    width,
    height,
    landmarks,
    detScore,
    embeddingDim,
    model,
    quality,
    trackId,
    hasThumbnail,
    person,
    similarity,
    face,
  ] = JSON.parse(line) as [
    string,
    string,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number[],
    number,
    number,
    number,
    number,
    number,
    number,
    number?,
    number?,
    number?,
  ];
  return {
    id,
    batchId,
    workerId: bucket.d[worker]!,
    siteId: bucket.d[site]!,
    cameraId: bucket.c,
    keyId: bucket.d[key]!,
    capturedAt,
    receivedAt: capturedAt + lag,
    frameSeq,
    bbox: { x, y, width, height },
    landmarks,
    detScore,
    embeddingDim,
    model: bucket.d[model]!,
    quality,
    trackId,
    hasThumbnail: hasThumbnail === 1,
    personId: person === undefined ? null : bucket.d[person]!,
    similarity: similarity ?? null,
    faceId: face === undefined ? null : bucket.d[face]! || null,
  };
}
