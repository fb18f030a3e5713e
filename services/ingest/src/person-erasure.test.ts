/**
 * Erasure of a deleted person from what ingest stores, against a real database: archived sightings
 * (the end-to-end test in services/gateway covers open ones), the events' full records and the
 * listing; clearing keeps everyone else's as it was, purging deletes only theirs, and a second run
 * changes nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PeopleServiceClient } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { makeBatch, makeObservation } from "@facerec/shared/stack/test-worker.ts";
import type { Connection } from "mongoose";
import { EventStore, findStoredEvents, toEventDocuments } from "./event-store.ts";
import { GalleryFollower } from "./gallery-follower.ts";
import { type IngestModels, ingestModels } from "./models.ts";
import { PersonErasure } from "./person-erasure.ts";
import { SightingStore } from "./sightings/sighting-store.ts";
import { SightingTracker } from "./sightings/sighting-tracker.ts";

const log = createLogger("test", "silent");
const MINUTE = 60_000;

describe("person erasure in ingest", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: IngestModels;
  let events: EventStore;
  let sightings: SightingStore;
  let tracker: SightingTracker;
  let people: PeopleServiceClient;
  let erasure: PersonErasure;
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await ingestModels(connection);
    events = new EventStore(models);
    sightings = new SightingStore(models);
    tracker = new SightingTracker({ store: sightings, events, log });
    await tracker.start();
    // Never started: an empty gallery, as on a replica the deleted person's faces already left.
    people = internalClient(PeopleServiceClient, "127.0.0.1:1");
    erasure = new PersonErasure({
      models,
      listing: events.listing,
      tracker,
      follower: new GalleryFollower(people, log),
      log,
    });
  });
  after(async () => {
    await tracker.stop();
    people.close();
    await connection.close();
    await db.stop();
  });

  /** Stores one camera's observations as ingest does, matched to `personIds` (null: unknown). */
  const stream = async (
    tenantId: string,
    at: number,
    personIds: (string | null)[],
    cameraId = "camera-1",
  ) => {
    const batch = makeBatch({
      cameraId,
      observations: personIds.map((_, i) =>
        makeObservation({
          capturedAt: new Date(at + i * 1000),
          frameSeq: i + 1,
          thumbnailJpeg: Buffer.from([1]),
        }),
      ),
    });
    const documents = toEventDocuments({ tenantId, keyId: "key-1" }, batch, new Date()).map((d, i) => ({
      ...d,
      personId: personIds[i] ?? null,
      similarity: personIds[i] ? 0.9 : null,
      faceId: personIds[i] ? `face-of-${personIds[i]}` : null,
    }));
    const stored = await events.insertDocuments(tenantId, documents);
    await tracker.record(tenantId, documents, stored.duplicate);
    return documents.map((d) => d._id);
  };
  const listed = async (tenantId: string) =>
    (await events.list(tenantId, { pageSize: 500, pageToken: "", includeEmbeddings: false })).events;
  const allSightings = async (tenantId: string) =>
    (await sightings.page(tenantId, {}, undefined, 500, tracker.live(tenantId))).sightings;

  it("unmatches a deleted person's archived sightings, stored events and listing, and nobody else's", async () => {
    const tenant = "t-clear";
    const t0 = Date.now() - 10 * MINUTE;
    const alice = await stream(tenant, t0, ["alice", "alice", null, "bob"]);
    await stream(tenant, t0, ["alice"], "camera-2");
    // Closed and archived: last seen long before the tracker's retention.
    await tracker.persist(Date.now() + 10 * MINUTE);
    assert.equal(tracker.size, 0, "every sighting archived");
    const before = await allSightings(tenant);
    assert.equal(before.filter((s) => s.personId === "alice").length, 2);

    assert.deepEqual(await erasure.erase(tenant, "alice", false), { events: 3, sightings: 2 });

    const after = await allSightings(tenant);
    assert.equal(after.length, before.length, "sightings are kept");
    assert.ok(after.every((s) => s.personId !== "alice"));
    const cleared = after.filter((s) => before.find((b) => b._id === s._id)?.personId === "alice");
    assert.ok(
      cleared.every((s) => s.personId === null && s.bestSimilarity === null && s.subject.startsWith("t:")),
    );
    assert.equal(after.find((s) => s.personId === "bob")?.observations, 1, "bob's as it was");
    const kept = await listed(tenant);
    assert.equal(kept.length, 5, "events are kept");
    assert.ok(alice.every((id) => kept.some((e) => e.id === id)));
    assert.deepEqual(
      kept.filter((e) => e.personId).map((e) => [e.personId, e.faceId]),
      [["bob", "face-of-bob"]],
    );
    assert.ok(kept.filter((e) => !e.personId).every((e) => e.similarity === 0 && e.faceId === ""));
    assert.deepEqual(await findStoredEvents(models.database, { personId: "alice" }), []);
    assert.equal((await findStoredEvents(models.database, { faceId: "face-of-alice" })).length, 0);
    const byPerson = await events.list(tenant, {
      personId: "alice",
      pageSize: 100,
      pageToken: "",
      includeEmbeddings: false,
    });
    assert.deepEqual(byPerson.events, []);

    assert.deepEqual(await erasure.erase(tenant, "alice", false), { events: 0, sightings: 0 }, "idempotent");
  });

  it("purges a person's events (with thumbnails and embeddings) and sightings, open or archived", async () => {
    const tenant = "t-purge";
    const t0 = Date.now() - 10 * MINUTE;
    const archived = await stream(tenant, t0, ["carol", null, "dave"]);
    await tracker.persist(Date.now() + 10 * MINUTE);
    // And one still open, in memory.
    const open = await stream(tenant, Date.now() - 5000, ["carol"], "camera-3");
    assert.equal(tracker.size, 1);

    assert.deepEqual(await erasure.erase(tenant, "carol", true), { events: 2, sightings: 2 });

    assert.equal(tracker.size, 0, "the open sighting is gone from memory");
    const left = await allSightings(tenant);
    assert.ok(left.every((s) => s.personId !== "carol"));
    assert.equal(left.filter((s) => s.personId === "dave").length, 1);
    const remaining = (await listed(tenant)).map((e) => e.id);
    assert.deepEqual(remaining.sort(), [archived[1]!, archived[2]!].sort());
    for (const id of [archived[0]!, open[0]!]) assert.equal(await events.thumbnail(tenant, id), undefined);
    assert.deepEqual(await findStoredEvents(models.database, { personId: "carol" }), []);
    assert.deepEqual(await erasure.erase(tenant, "carol", true), { events: 0, sightings: 0 }, "idempotent");
  });
});
