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

/** The existing partitions of one kind, of one tenant or of all. */
export async function listPartitions(
  db: mongo.Db,
  kind: PartitionKind,
  tenantId?: string,
): Promise<Partition[]> {
  const tenant = tenantId === undefined ? "[a-z0-9-]+|x[0-9a-f]+" : tenantKey(tenantId);
  const pattern = new RegExp(`^${kind}_(?:${tenant})_(\\d{10})$`);
  const collections = await db
    .listCollections({ name: { $regex: pattern.source } }, { nameOnly: true })
    .toArray();
  return collections.flatMap(({ name }) => {
    const hour = pattern.exec(name)?.[1];
    return hour ? [{ name, start: hourStart(hour) }] : [];
  });
}

/** Drops a partition; one that another replica's sweep dropped first is fine. */
export async function dropPartition(db: mongo.Db, name: string): Promise<void> {
  await db.dropCollection(name).catch((err: unknown) => {
    if ((err as { codeName?: string }).codeName !== "NamespaceNotFound") throw err;
  });
}
