/** Events of the single-collection layout, moved into hourly partitions against a real database. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { makeBatch, makeObservation } from "@facerec/shared/stack/test-worker.ts";
import type { Connection } from "mongoose";
import { EventStore, toEventDocuments } from "./event-store.ts";
import { LEGACY_EVENTS, moveLegacyEvents } from "./legacy-events.ts";
import { type FaceEventDoc, type IngestModels, ingestModels } from "./models.ts";

const log = createLogger("test", "silent");

describe("moveLegacyEvents", () => {
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

  it("moves every old event into the partitions once, even when a move is run again", async () => {
    const hourAgo = Date.now() - 60 * 60 * 1000;
    // Two tenants, two cameras, three hours: what an old version stored, old ids included.
    const old = ["t-old-a", "t-old-b"].flatMap((tenantId, t) =>
      Array.from({ length: 3 }, (_, b) =>
        toEventDocuments(
          { tenantId, keyId: "key-1" },
          makeBatch({
            cameraId: `cam-${b % 2}`,
            observations: Array.from({ length: 10 }, (_, i) =>
              makeObservation({ capturedAt: new Date(hourAgo - b * 60 * 60 * 1000 - t * 1000 - i) }),
            ),
          }),
          new Date(),
        ).map((e, i) => ({ ...e, _id: `legacy-${e.batchId}-${i}` })),
      ),
    );
    const legacy = models.database.collection<FaceEventDoc>(LEGACY_EVENTS);
    const insertOld = async () => {
      for (const batch of old) await legacy.insertMany(batch);
    };
    await insertOld();
    const store = new EventStore(models);
    assert.equal(await moveLegacyEvents(models.database, store, log), 60);
    const collections = await models.database.listCollections({ name: LEGACY_EVENTS }).toArray();
    assert.equal(collections.length, 0, "the old collection is dropped");

    // A move cut short before the drop: the next start moves the same events again.
    await insertOld();
    assert.equal(await moveLegacyEvents(models.database, new EventStore(models), log), 60);
    assert.equal(await moveLegacyEvents(models.database, store, log), 0, "nothing left to move");

    for (const [t, tenantId] of ["t-old-a", "t-old-b"].entries()) {
      const page = await store.list(tenantId, { pageSize: 0, pageToken: "", includeEmbeddings: true });
      const sent = old.slice(t * 3, t * 3 + 3).flat();
      assert.equal(page.events.length, 30, `every event of ${tenantId} once`);
      assert.deepEqual(
        page.events.map((e) => e.embedding.toString("base64")).sort(),
        sent.map((e) => e.embedding.toString("base64")).sort(),
      );
      // Today's ids (hour, then the digest), so thumbnails and embeddings are found by id.
      assert.ok(page.events.every((e) => /^\d{10}-[A-Za-z0-9_-]{22}$/.test(e.id)));
      assert.ok(page.events.every((e) => e.personId === ""));
    }
  });
});
