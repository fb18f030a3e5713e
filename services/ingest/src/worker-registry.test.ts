/** The worker registry's heartbeat against a real database: many workers never become one oversized write. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import type { Connection } from "mongoose";
import { type IngestModels, ingestModels } from "./models.ts";
import { PRESENCE_WRITE_CHUNK, WorkerRegistry } from "./worker-registry.ts";

const log = createLogger("test", "silent");
const WORKERS = 3 * PRESENCE_WRITE_CHUNK + 7;

describe("WorkerRegistry heartbeat", () => {
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
