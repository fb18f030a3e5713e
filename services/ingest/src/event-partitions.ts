/**
 * Events live in one collection per tenant and UTC hour of capture, of two kinds:
 * `events_<tenant>_<yyyymmddhh>` (the full events, read by `_id`) and
 * `event_pages_<tenant>_<yyyymmddhh>` (the listing, see event-listing.ts).
 *
 * Why (measured on the embedded FerretDB 1.24/SQLite): FerretDB reads every document of a collection
 * for any filter but `{_id: <string>}`, and even that one is a scan in SQLite, because the `_id`
 * index FerretDB creates (`_ferretdb_sjson->"_id"`) is not the expression its queries use
 * (`_ferretdb_sjson->'$._id'`); deletes by `_id` likewise scan the whole table. So every read and
 * delete must touch a small collection: an hour of one tenant. Retention drops whole hours.
 */
import type { mongo } from "mongoose";

export const HOUR_MS = 60 * 60 * 1000;

export type PartitionKind = "events" | "event_pages";

/** `yyyymmddhh` of a time, UTC. */
export function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/\D/g, "");
}

function hourStart(key: string): number {
  return Date.UTC(+key.slice(0, 4), +key.slice(4, 6) - 1, +key.slice(6, 8), +key.slice(8, 10));
}

/** Tenant ids are `[a-z0-9-]` (gateway schemas); anything else is hex-encoded so names stay valid. */
function tenantKey(tenantId: string): string {
  return /^[a-z0-9-]{1,64}$/.test(tenantId) ? tenantId : `x${Buffer.from(tenantId).toString("hex")}`;
}

export function partitionName(kind: PartitionKind, tenantId: string, hour: string): string {
  return `${kind}_${tenantKey(tenantId)}_${hour}`;
}

export interface Partition {
  name: string;
  /** Start of its hour, ms since the epoch. */
  start: number;
}

function parse(names: Iterable<string>, kind: PartitionKind, tenantId: string | undefined): Partition[] {
  const tenant = tenantId === undefined ? "[a-z0-9-]+|x[0-9a-f]+" : tenantKey(tenantId);
  const pattern = new RegExp(`^${kind}_(?:${tenant})_(\\d{10})$`);
  const partitions: Partition[] = [];
  for (const name of names) {
    const hour = pattern.exec(name)?.[1];
    if (hour) partitions.push({ name, start: hourStart(hour) });
  }
  return partitions;
}

async function collectionNames(db: mongo.Db): Promise<string[]> {
  // Unfiltered and matched here: FerretDB's own $regex filter took 40-110 ms over 1,440 collections.
  return (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
}

/** The existing partitions of one kind, of one tenant or of all, as the database lists them now. */
export async function listPartitions(
  db: mongo.Db,
  kind: PartitionKind,
  tenantId?: string,
): Promise<Partition[]> {
  return parse(await collectionNames(db), kind, tenantId);
}

/**
 * The partitions a page may read, without listing the database's collections on every request
 * (20 ms for 1,440 of them on FerretDB): the list is reloaded in the background when older than
 * MAX_AGE_MS, the partitions this process writes are added at once, and the current hours (where
 * another replica may have just made one) are always included; reading one that does not exist
 * finds nothing.
 */
export class PartitionDirectory {
  static readonly MAX_AGE_MS = 2000;
  readonly #db: mongo.Db;
  #names = new Set<string>();
  /** Written by this process since the last reload began: a reload's listing may predate them. */
  #added = new Set<string>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(db: mongo.Db) {
    this.#db = db;
  }

  /** Records a partition this process has just written to. */
  add(name: string): void {
    this.#names.add(name);
    this.#added.add(name);
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
    const current = [now - HOUR_MS, now, now + HOUR_MS].map((at) =>
      partitionName(kind, tenantId, hourKey(at)),
    );
    return parse(new Set([...this.#names, ...current]), kind, tenantId);
  }

  async #reload(): Promise<void> {
    const added = this.#added;
    this.#added = new Set();
    const names = new Set(await collectionNames(this.#db));
    for (const name of [...added, ...this.#added]) names.add(name);
    this.#names = names;
    this.#loadedAt = Date.now();
  }
}

/** Drops a partition; one that another replica's sweep dropped first is fine. */
export async function dropPartition(db: mongo.Db, name: string): Promise<void> {
  await db.dropCollection(name).catch((err: unknown) => {
    if ((err as { codeName?: string }).codeName !== "NamespaceNotFound") throw err;
  });
}
