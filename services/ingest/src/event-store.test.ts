/** The ingest data layer against a real database: exactly-once writes, listing, retention. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { makeBatch, makeObservation } from "@facerec/shared/stack/test-worker.ts";
import type { Connection, mongo } from "mongoose";
import { BatchClaims } from "./batch-claims.ts";
import { EventPartitions, HOUR_MS, hourKey } from "./event-partitions.ts";
import { DURABLE_WRITE, EventStore, findStoredEvents, toEventDocuments } from "./event-store.ts";
import { type IngestModels, ingestModels } from "./models.ts";
import { RetentionSweeper } from "./retention-sweeper.ts";
import { WorkerRegistry } from "./worker-registry.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const log = createLogger("test", "silent");
const origin = { tenantId: "t-store", keyId: "key-1" };

describe("EventStore", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: IngestModels;
  let store: EventStore;
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await ingestModels(connection);
    store = new EventStore(models);
  });
  after(async () => {
    await connection.close();
    await db.stop();
  });

  it("completes a half-written batch on replay, storing no observation twice", async () => {
    const batch = makeBatch({ observations: 4 });
    // What a crash between the first observations and the rest leaves behind: the batch's claim
    // on its id, and half of its events.
    const hour = hourKey(batch.observations[0]!.capturedAt!.getTime());
    await new BatchClaims(new EventPartitions(models.database), DURABLE_WRITE).claim(
      origin.tenantId,
      batch,
      hour,
    );
    const documents = toEventDocuments(origin, batch, new Date());
    assert.deepEqual(await store.insertDocuments(origin.tenantId, documents.slice(0, 2)), {
      accepted: 2,
      duplicate: false,
    });
    // Only the same content completes it.
    const other = { ...makeBatch({ observations: 4 }), batchId: batch.batchId };
    assert.deepEqual(await store.insertBatch(origin, other, new Date()), {
      accepted: 0,
      duplicate: false,
      conflict: true,
    });
    assert.deepEqual(await store.insertBatch(origin, batch, new Date()), { accepted: 2, duplicate: false });
    assert.deepEqual(await store.insertBatch(origin, batch, new Date()), { accepted: 0, duplicate: true });
    const stored = await findStoredEvents(models.database, { batchId: batch.batchId });
    assert.deepEqual(stored.map((e) => e.batchIndex).sort(), [0, 1, 2, 3]);
  });

  it("stores embeddings and thumbnails as BinData, not arrays of numbers", async () => {
    const batch = makeBatch({
      observations: [makeObservation({ thumbnailJpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) })],
    });
    await store.insertBatch(origin, batch, new Date());
    // As the driver reads them back: BSON Binary values.
    const [raw] = (await findStoredEvents(models.database, { batchId: batch.batchId })) as unknown as {
      embedding: mongo.Binary;
      thumbnail: mongo.Binary;
    }[];
    assert.equal(raw?.embedding._bsontype, "Binary");
    assert.equal(raw?.thumbnail._bsontype, "Binary");
    assert.ok(batch.observations[0]!.embedding.equals(Buffer.from(raw!.embedding.buffer)));
  });

  it("keeps tenants apart: the same batch id in two tenants is two batches", async () => {
    const batch = makeBatch({ observations: 1 });
    await store.insertBatch(origin, batch, new Date());
    const other = await store.insertBatch({ ...origin, tenantId: "t-other" }, batch, new Date());
    assert.deepEqual(other, { accepted: 1, duplicate: false });
    const page = await store.list("t-other", { pageSize: 0, pageToken: "", includeEmbeddings: false });
    assert.deepEqual(
      page.events.map((e) => e.batchId),
      [batch.batchId],
    );
  });

  it("lists a replayed batch once, and no event lost when two replicas write one camera's hour", async () => {
    const tenant = { ...origin, tenantId: "t-replicas" };
    const at = (i: number) => new Date(Date.now() - 60_000 + i);
    const batches = Array.from({ length: 6 }, (_, b) =>
      makeBatch({
        cameraId: "cam-shared",
        observations: Array.from({ length: 5 }, (_, i) => makeObservation({ capturedAt: at(b * 5 + i) })),
      }),
    );
    // A second replica: its own EventStore on the same database, appending concurrently.
    const replica = new EventStore(models);
    await Promise.all(
      batches.map((batch, i) => (i % 2 ? replica : store).insertBatch(tenant, batch, new Date())),
    );
    assert.deepEqual(await store.insertBatch(tenant, batches[0]!, new Date()), {
      accepted: 0,
      duplicate: true,
    });
    const page = await store.list(tenant.tenantId, { pageSize: 0, pageToken: "", includeEmbeddings: true });
    assert.equal(page.events.length, 30, "every event once");
    assert.equal(new Set(page.events.map((e) => e.id)).size, 30);
    const sent = batches.flatMap((b) => b.observations.map((o) => o.embedding.toString("base64")));
    assert.deepEqual(page.events.map((e) => e.embedding.toString("base64")).sort(), sent.sort());
  });

  it("fills a camera's bucket with small appends and gives a large append a bucket of its own", async () => {
    const tenant = { ...origin, tenantId: "t-buckets" };
    // All within one hour, two hours ago.
    const hourStart = Math.floor((Date.now() - 2 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const batch = (size: number, first: number) =>
      makeBatch({
        cameraId: "cam-b",
        observations: Array.from({ length: size }, (_, i) =>
          makeObservation({ capturedAt: new Date(hourStart + first + i) }),
        ),
      });
    for (let i = 0; i < 10; i++) await store.insertBatch(tenant, batch(3, i * 3), new Date());
    await store.insertBatch(tenant, batch(60, 100), new Date());
    await store.insertBatch(tenant, batch(2, 200), new Date());
    const partitions = new EventPartitions(models.database);
    const pages = (await partitions.list()).filter((p) => partitions.isOf(p, "event_pages", tenant.tenantId));
    const buckets = await Promise.all(
      pages.map((p) => partitions.open<{ _id: string; n: number }>(p).find({}).toArray()),
    );
    // The 60 in a bucket of their own; the 2 after them join it (it is the open one now).
    assert.deepEqual(
      buckets.flat().map((b) => [b._id, b.n]),
      [
        ["cam-b~0", 30],
        ["cam-b~1", 62],
      ],
    );
    const page = await store.list(tenant.tenantId, { pageSize: 0, pageToken: "", includeEmbeddings: false });
    assert.equal(page.events.length, 92);
  });

  it("pages back through sparse hours: a page reads at most a day and says where to go on", async () => {
    const tenant = { ...origin, tenantId: "t-sparse" };
    const hoursAgo = (h: number) => new Date(Date.now() - h * 60 * 60 * 1000);
    // One event an hour for two days on camera a; camera b only at the start, 40 hours ago.
    for (let h = 0; h < 48; h++) {
      await store.insertBatch(
        tenant,
        makeBatch({ cameraId: "cam-a", observations: [makeObservation({ capturedAt: hoursAgo(h) })] }),
        new Date(),
      );
    }
    const old = makeBatch({
      cameraId: "cam-b",
      observations: [makeObservation({ capturedAt: hoursAgo(40) })],
    });
    await store.insertBatch(tenant, old, new Date());

    const walk = async (cameraId: string, pageSize: number) => {
      const pages: string[][] = [];
      let pageToken = "";
      do {
        const page = await store.list(tenant.tenantId, {
          cameraId,
          pageSize,
          pageToken,
          includeEmbeddings: false,
        });
        pages.push(page.events.map((e) => e.batchId));
        pageToken = page.nextPageToken;
      } while (pageToken && pages.length < 10);
      return pages;
    };
    const sparse = await walk("cam-b", 10);
    assert.ok(sparse[0]!.length === 0 && sparse.length > 1, "the first day has none: an empty page, a token");
    assert.deepEqual(sparse.flat(), [old.batchId], "then the event, once");
    const dense = (await walk("cam-a", 7)).flat();
    assert.equal(dense.length, 48);
    assert.equal(new Set(dense).size, 48);

    await assert.rejects(
      store.list(tenant.tenantId, { pageSize: 0, pageToken: "WzFlKzMwMCwieSJd", includeEmbeddings: false }),
      (err: { code?: string }) => err.code === "invalid_page_token",
    );
  });

  it("sweeps events captured before the retention window and keeps the rest", async () => {
    const now = Date.now();
    const old = makeBatch({
      workerId: "w-old",
      observations: [makeObservation({ capturedAt: new Date(now - 31 * DAY_MS) })],
    });
    const fresh = makeBatch({
      workerId: "w-old",
      observations: [makeObservation({ capturedAt: new Date(now - 29 * DAY_MS) })],
    });
    await store.insertBatch(origin, old, new Date());
    await store.insertBatch(origin, fresh, new Date());
    const registry = new WorkerRegistry({ models, replicaId: "r", heartbeatMs: 1000, log });
    const sweeper = new RetentionSweeper({
      store,
      registry,
      retentionMs: 30 * DAY_MS,
      intervalMs: 1000,
      log,
    });
    assert.equal(await sweeper.sweep(now), 1);
    assert.deepEqual(
      (await findStoredEvents(models.database, { workerId: "w-old" })).map((e) => e.batchId),
      [fresh.batchId],
    );
  });
});
