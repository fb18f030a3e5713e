/** The worker registry against a real database: replicas merged, disconnects explained, and many workers never one oversized write. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import type { Connection } from "mongoose";
import { type IngestModels, ingestModels } from "./models.ts";
import { PRESENCE_WRITE_CHUNK, type StreamIdentity, WorkerRegistry } from "./worker-registry.ts";

const log = createLogger("test", "silent");
const WORKERS = 3 * PRESENCE_WRITE_CHUNK + 7;

describe("WorkerRegistry", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: IngestModels;
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await ingestModels(connection);
  });
  after(async () => {
    await connection.close();
    await db.stop();
  });

  const stream = (id: string): StreamIdentity => ({
    id,
    tenantId: "t-reg",
    keyId: "key-1",
    keyName: "Entrance worker",
    remoteAddress: "10.0.0.7",
    openedAt: new Date(),
  });
  const batch = { workerId: "w-1", siteId: "site-1", cameraId: "cam-1" };

  it("merges every replica's streams, forgets a replica that stopped heart-beating, lists disconnected workers for a day", async () => {
    const heartbeatMs = 1000;
    const a = new WorkerRegistry({ models, replicaId: "replica-a", heartbeatMs, log });
    const b = new WorkerRegistry({ models, replicaId: "replica-b", heartbeatMs, log });
    a.recordBatch(stream("s1"), batch, 5, new Date());
    b.recordBatch(stream("s2"), { ...batch, cameraId: "cam-2" }, 7, new Date());
    await Promise.all([a.flush(), b.flush()]);

    const [both] = await a.list("t-reg");
    assert.deepEqual(
      [both!.workerId, both!.connected, both!.streamCount, both!.observationsPerMinute, both!.keyName],
      ["w-1", true, 2, 12, "Entrance worker"],
    );
    assert.equal(both!.cameraId, "cam-2", "site and camera come from the most recent batch");

    // Replica b dies: its row stays but its heartbeat goes stale.
    const [afterDeath] = await a.list("t-reg", Date.now() + 3 * heartbeatMs + 100);
    assert.deepEqual(
      [afterDeath!.connected, afterDeath!.streamCount, afterDeath!.observationsPerMinute],
      [true, 1, 5],
    );

    a.streamClosed("s1", "worker_closed");
    await a.flush();
    const [disconnected] = await a.list("t-reg", Date.now() + 3 * heartbeatMs + 100);
    assert.deepEqual(
      [disconnected!.connected, disconnected!.streamCount, disconnected!.disconnectReason],
      [false, 0, "worker_closed"],
    );
    assert.ok(disconnected!.lastBatchAt instanceof Date);
    assert.deepEqual(await a.list("t-reg", Date.now() + 25 * 60 * 60 * 1000), [], "gone after a day");
    assert.deepEqual(await a.list("t-other"), [], "tenant-scoped");
  });

  it(`rewrites ${WORKERS} existing rows in chunks of ${PRESENCE_WRITE_CHUNK}, and the database still answers`, async () => {
    const registry = new WorkerRegistry({ models, replicaId: "r-chunks", heartbeatMs: 60_000, log });
    const sizes: number[] = [];
    const bulkWrite = models.workerPresence.bulkWrite.bind(models.workerPresence);
    models.workerPresence.bulkWrite = ((ops: unknown[], options: unknown) => {
      sizes.push(ops.length);
      return bulkWrite(ops as never, options as never);
    }) as typeof models.workerPresence.bulkWrite;
    try {
      const streams = Array.from({ length: WORKERS }, (_, i) => ({
        id: `s-${i}`,
        tenantId: "t-chunks",
        keyId: "key-1",
        keyName: "key",
        remoteAddress: "127.0.0.1",
        openedAt: new Date(),
      }));
      for (const [i, stream] of streams.entries()) {
        registry.recordBatch(stream, { workerId: `w-${i}`, siteId: "s", cameraId: "c" }, 1, new Date());
      }
      // The first heartbeat inserts; the second (connected workers) and third (all disconnected)
      // replace existing rows: the write shape that used to wedge FerretDB at 100 or more.
      await registry.flush();
      await registry.flush();
      for (const stream of streams) registry.streamClosed(stream.id, "worker_closed");
      const started = performance.now();
      await registry.flush();
      assert.ok(performance.now() - started < 5000, "the disconnect heartbeat completes promptly");
    } finally {
      models.workerPresence.bulkWrite = bulkWrite;
    }
    assert.ok(sizes.length >= 3 * Math.ceil(WORKERS / PRESENCE_WRITE_CHUNK));
    assert.ok(Math.max(...sizes) <= PRESENCE_WRITE_CHUNK, `largest bulkWrite: ${Math.max(...sizes)}`);
    const listed = await registry.list("t-chunks");
    assert.equal(listed.length, WORKERS);
    assert.ok(listed.every((worker) => !worker.connected));
    assert.equal(await models.workerPresence.countDocuments({ tenantId: "t-chunks" }), WORKERS);
  });
});
