/**
 * Events live in one collection per tenant and UTC hour of capture, of two kinds: `events_<hour>`
 * (the full events, read by `_id`) and `event_pages_<hour>` (the listing, see event-listing.ts),
 * in one database per tenant and day, `<db>_ev<yyyymmdd>_<tenant>` for the events and
 * `<db>_evl<yyyymmdd>_<tenant>` for the listing and the batch claims (`batches_<hour>`, see
 * batch-claims.ts): FerretDB/SQLite keeps a database in one file with one writer at a time, so the
 * writes of a batch (and of consecutive batches) go on in parallel.
 *
 * Why (measured on the embedded FerretDB 1.24/SQLite): FerretDB reads every document of a collection
 * for any filter but `{_id: <string>}`, and even that one is a scan in SQLite, because the `_id`
 * index FerretDB creates (`_ferretdb_sjson->"_id"`) is not the expression its queries use
 * (`_ferretdb_sjson->'$._id'`); deletes by `_id` likewise scan the whole table. So every read and
 * delete must touch a small collection: an hour of one tenant. And every FerretDB command copies
 * and sorts the metadata of every collection of its database (1,440 hour collections in one
 * database made each query tens of ms slower), hence a database per day, each listed in the
 * `event_days` collection of the service's database. Retention drops whole hours and days.
 */
import { createHash } from "node:crypto";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import type { mongo } from "mongoose";

export const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** FerretDB's (and a portable MongoDB) database name limit. */
const DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;

export type PartitionKind = "events" | "event_pages" | "batches";

export interface Partition {
  db: string;
  collection: string;
  kind: PartitionKind;
  /** Start of its hour, ms since the epoch. */
  start: number;
}

let lastHour = { start: Number.NaN, key: "" };

/**
 * `yyyymmddhh` of a time, UTC. Every stored event asks several times, nearly always for the same
 * hour, so the last answer is kept (formatting a date was 2% of ingest's CPU under load).
 */
export function hourKey(ms: number): string {
  const start = Math.floor(ms / HOUR_MS) * HOUR_MS;
  if (start !== lastHour.start) {
    lastHour = { start, key: new Date(start).toISOString().slice(0, 13).replace(/\D/g, "") };
  }
  return lastHour.key;
}

function hourStart(key: string): number {
  return Date.UTC(+key.slice(0, 4), +key.slice(4, 6) - 1, +key.slice(6, 8), +key.slice(8, 10));
}

const sha = (text: string, length: number) =>
  createHash("sha256").update(text).digest("hex").slice(0, length);
const COLLECTION = /^(events|event_pages|batches)_(\d{10})$/;

export class EventPartitions {
  readonly #base: mongo.Db;
  /**
   * The event databases, one document per database, written before its first event. Listing the
   * server's databases instead is no option: FerretDB's listDatabases measures every database
   * (SQLite's dbstat), even with nameOnly, which kept it busy for minutes at 1M events.
   */
  readonly #days: mongo.Collection<{ _id: string }>;
  /** Databases this process has recorded in `#days`. */
  readonly #recorded = new Set<string>();
  /** Start of the name of every event database: the service's database name, or a hash of a long one. */
  readonly #prefix: string;

  constructor(base: mongo.Db) {
    this.#base = base;
    this.#days = base.collection("event_days");
    const name = base.databaseName;
    this.#prefix = name.length <= 20 && DB_NAME.test(name) ? `${name}_ev` : `ev${sha(name, 8)}_`;
  }

  /**
   * Tenant ids are `[a-z0-9-]` (gateway schemas); others, and long ones, are hashed to fit a name
   * (after the prefix: `l`, the day and `_`).
   */
  #tenantPart(tenantId: string): string {
    const fits = /^[a-z0-9-]+$/.test(tenantId) && this.#prefix.length + 10 + tenantId.length <= 63;
    return fits ? tenantId : `h${sha(tenantId, 16)}`;
  }

  partition(kind: PartitionKind, tenantId: string, hour: string): Partition {
    const listing = kind === "events" ? "" : "l";
    return {
      db: `${this.#prefix}${listing}${hour.slice(0, 8)}_${this.#tenantPart(tenantId)}`,
      collection: `${kind}_${hour}`,
      kind,
      start: hourStart(hour),
    };
  }

  /** Records the partition's database, once per process, before anything is written to it. */
  async record(partition: Partition): Promise<void> {
    if (this.#recorded.has(partition.db)) return;
    await this.#days.insertOne({ _id: partition.db }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
    this.#recorded.add(partition.db);
  }

  open<T extends mongo.Document>(partition: Partition): mongo.Collection<T> {
    return this.#base.client.db(partition.db).collection<T>(partition.collection);
  }

  /** Whether `partition` is `tenantId`'s (undefined: anyone's). */
  isOf(partition: Partition, kind: PartitionKind, tenantId?: string): boolean {
    return (
      partition.kind === kind &&
      (tenantId === undefined || partition.db.endsWith(`_${this.#tenantPart(tenantId)}`))
    );
  }

  /** Every partition in the database now, of every kind and tenant. */
  async list(): Promise<Partition[]> {
    const ours = (await this.#days.find({}).toArray()).map((d) => d._id);
    const perDatabase = await Promise.all(
      ours.map(async (db) => {
        const collections = await this.#base.client.db(db).listCollections({}, { nameOnly: true }).toArray();
        return collections.flatMap(({ name }): Partition[] => {
          const [, kind, hour] = COLLECTION.exec(name) ?? [];
          return kind && hour
            ? [{ db, collection: name, kind: kind as PartitionKind, start: hourStart(hour) }]
            : [];
        });
      }),
    );
    return perDatabase.flat();
  }

  /** Drops the partitions whose hour ended at or before `cutoff`, and the databases of whole expired days. */
  async dropBefore(cutoff: number, partitions: Partition[]): Promise<void> {
    // The listing first: an event is never listed without its full record.
    const expired = partitions
      .filter((p) => p.start + HOUR_MS <= cutoff)
      .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "event_pages" ? -1 : 1));
    for (const partition of expired) {
      await this.open(partition)
        .drop()
        .catch((err: unknown) => {
          // Another replica's sweep dropped it first.
          if ((err as { codeName?: string }).codeName !== "NamespaceNotFound") throw err;
        });
    }
    const days = new Map<string, number>();
    for (const p of partitions) days.set(p.db, Math.max(days.get(p.db) ?? 0, p.start));
    for (const [db, lastHour] of days) {
      if (Math.floor(lastHour / DAY_MS) * DAY_MS + DAY_MS <= cutoff) {
        await this.#base.client.db(db).dropDatabase();
        await this.#days.deleteOne({ _id: db });
        this.#recorded.delete(db);
      }
    }
  }
}

/**
 * The partitions a page may read, without listing the databases on every request: the list is
 * reloaded in the background when older than MAX_AGE_MS, the partitions this process writes are
 * added at once, and the current hours (where another replica may have just made one) are always
 * included; reading one that does not exist finds nothing.
 */
export class PartitionDirectory {
  static readonly MAX_AGE_MS = 2000;
  readonly #partitions: EventPartitions;
  #known = new Map<string, Partition>();
  /** Written by this process since the last reload began: a reload's listing may predate them. */
  #added = new Map<string, Partition>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(partitions: EventPartitions) {
    this.#partitions = partitions;
  }

  /** Records a partition this process has just written to. */
  add(partition: Partition): void {
    const key = `${partition.db}/${partition.collection}`;
    this.#known.set(key, partition);
    this.#added.set(key, partition);
  }

  async list(kind: PartitionKind, tenantId: string, now = Date.now()): Promise<Partition[]> {
    if (!this.#loading && now - this.#loadedAt > PartitionDirectory.MAX_AGE_MS) {
      const loading = this.#reload();
      // A failed reload in the background is retried by the next request.
      this.#loading = loading
        .finally(() => {
          this.#loading = undefined;
        })
        .catch(() => {});
      // Only the first listing is waited for (and fails the request); later ones refresh behind them.
      if (this.#loadedAt === Number.NEGATIVE_INFINITY) await loading;
    } else if (this.#loadedAt === Number.NEGATIVE_INFINITY) {
      await this.#loading;
      if (this.#loadedAt === Number.NEGATIVE_INFINITY) return this.list(kind, tenantId, now);
    }
    const found = new Map<string, Partition>();
    for (const [key, p] of this.#known) if (this.#partitions.isOf(p, kind, tenantId)) found.set(key, p);
    for (const at of [now - HOUR_MS, now, now + HOUR_MS]) {
      const p = this.#partitions.partition(kind, tenantId, hourKey(at));
      found.set(`${p.db}/${p.collection}`, p);
    }
    return [...found.values()];
  }

  async #reload(): Promise<void> {
    const added = this.#added;
    this.#added = new Map();
    const known = new Map((await this.#partitions.list()).map((p) => [`${p.db}/${p.collection}`, p]));
    for (const [key, p] of [...added, ...this.#added]) known.set(key, p);
    this.#known = known;
    this.#loadedAt = Date.now();
  }
}
