/**
 * Sightings against a real database: how observations roll up, replays that count nothing twice
 * (also after a restart), a crash between storing events and their sightings, and pages.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import type { decodePageToken } from "@facerec/shared/db/pagination.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { makeBatch, makeObservation } from "@facerec/shared/stack/test-worker.ts";
import type { Connection } from "mongoose";
import { EventStore, toEventDocuments } from "../event-store.ts";
import { type IngestModels, ingestModels } from "../models.ts";
import { type SightingDoc, type SightingFilter, SightingStore } from "./sighting-store.ts";
import { SightingTracker } from "./sighting-tracker.ts";

const log = createLogger("test", "silent");
const MINUTE = 60_000;

interface Seen {
  /** ms since the epoch */
  at: number;
  trackId?: number;
  personId?: string;
  similarity?: number;
  quality?: number;
  thumbnail?: boolean;
}

describe("sightings", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: IngestModels;
  let events: EventStore;
  let store: SightingStore;
  let tracker: SightingTracker;
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await ingestModels(connection);
    events = new EventStore(models);
    store = new SightingStore(models);
    tracker = new SightingTracker({ store, events, log });
    await tracker.start();
  });
  after(async () => {
    await tracker.stop();
    await connection.close();
    await db.stop();
  });

  /** A batch of one camera; `replay` sends it again as it was (same ids and content). */
  const batchOf = (seen: Seen[], opts: { cameraId?: string; workerId?: string } = {}) =>
    makeBatch({
      ...opts,
      observations: seen.map((s, i) =>
        makeObservation({
          capturedAt: new Date(s.at),
          frameSeq: i + 1,
          trackId: s.trackId ?? 0,
          quality: s.quality ?? 0.5,
          thumbnailJpeg: s.thumbnail ? Buffer.from([0xff, 0xd8, 0xff, 0xd9]) : Buffer.alloc(0),
        }),
      ),
    });

  /** Stores a batch like ingest does, the matcher's verdicts given by `seen`, and hands it to `into`. */
  const replay = async (into: SightingTracker, tenantId: string, batch: FaceBatch, seen: Seen[]) => {
    const origin = { tenantId, keyId: "key-1" };
    const stored = await events.insertBatch(origin, batch, new Date());
    const documents = toEventDocuments(origin, batch, new Date()).map((d, i) => ({
      ...d,
      personId: seen[i]!.personId ?? null,
      similarity: seen[i]!.similarity ?? null,
    }));
    await into.record(tenantId, documents, stored.duplicate);
    return { documents, stored };
  };

  const stream = (
    into: SightingTracker,
    tenantId: string,
    seen: Seen[],
    opts: { cameraId?: string; workerId?: string } = {},
  ) => replay(into, tenantId, batchOf(seen, opts), seen);

  /** Every page of a listing, checking each token. */
  const listAll = async (tenantId: string, filter: SightingFilter = {}, size = 100, on = tracker) => {
    const all: SightingDoc[] = [];
    let after: ReturnType<typeof decodePageToken> | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await store.page(tenantId, filter, after, size, on.live(tenantId));
      all.push(...page.sightings);
      if (!page.next) return all;
      after = page.next;
    }
    throw new Error("no last page");
  };

  it("rolls a person's observations at a camera into one sighting until a 30 s gap", async () => {
    const tenant = "t-rollup";
    const t0 = Date.now() - 5 * MINUTE;
    await stream(tracker, tenant, [
      { at: t0, trackId: 7, personId: "alice", similarity: 0.61, quality: 0.4, thumbnail: true },
      { at: t0 + 1000, trackId: 7, personId: "alice", similarity: 0.72, quality: 0.9, thumbnail: false },
      { at: t0 + 2000, trackId: 7, personId: "alice", similarity: 0.66, quality: 0.7, thumbnail: true },
      { at: t0 + 2000, trackId: 8 },
    ]);
    // Another batch 20 s later extends it; 31 s after that is a new sighting.
    const { documents: later } = await stream(tracker, tenant, [
      { at: t0 + 22_000, trackId: 9, personId: "alice", similarity: 0.5 },
    ]);
    await stream(tracker, tenant, [{ at: t0 + 53_001, trackId: 9, personId: "alice", similarity: 0.55 }]);
    // The same person at another camera is another sighting.
    await stream(tracker, tenant, [{ at: t0 + 1000, personId: "alice", similarity: 0.8 }], {
      cameraId: "camera-2",
    });

    const sightings = await listAll(tenant);
    assert.equal(sightings.length, 4);
    const [newest, unknown] = [sightings[0]!, sightings.find((s) => s.personId === null)!];
    assert.equal(newest.personId, "alice");
    assert.equal(newest.observations, 1);
    assert.equal(newest.firstSeenAt.getTime(), t0 + 53_001);
    const first = sightings.find((s) => s.cameraId === "camera-1" && s.firstSeenAt.getTime() === t0)!;
    assert.equal(first.personId, "alice");
    assert.equal(first.observations, 4);
    assert.equal(first.lastSeenAt.getTime(), later[0]!.capturedAt.getTime());
    assert.equal(first.bestSimilarity?.toFixed(2), "0.72");
    // The best face with a thumbnail (quality 0.7), not the better one without (0.9).
    assert.equal(first.bestQuality.toFixed(1), "0.7");
    assert.equal(first.bestEventHasThumbnail, true);
    assert.equal(first.trackId, 7);
    assert.equal(unknown.subject, "t:worker-1:8");
    assert.equal(unknown.bestSimilarity, null);
    assert.equal(unknown.observations, 1);
    assert.deepEqual(
      (await listAll(tenant, { cameraId: "camera-2" })).map((s) => [s.personId, s.observations]),
      [["alice", 1]],
    );
    assert.equal((await listAll(tenant, { identified: false })).length, 1);
    assert.equal((await listAll(tenant, { identified: true })).length, 3);
    assert.equal((await listAll(tenant, { personId: "alice", cameraId: "camera-1" })).length, 2);
    assert.equal((await listAll(tenant, { personId: "bob" })).length, 0);
  });

  it("archives closed sightings: pages read the same before and after, and one left open by a crash shows once", async () => {
    const tenant = "t-rollup";
    const before = await listAll(tenant);
    assert.equal(before.length, 4);
    const summary = (list: SightingDoc[]) =>
      list.map((s) => [
        s._id,
        s.personId,
        s.cameraId,
        s.observations,
        s.firstSeenAt.getTime(),
        s.lastSeenAt.getTime(),
        s.bestEventId,
        s.bestSimilarity,
      ]);
    // All were last seen 4 to 5 minutes ago: closed.
    await tracker.persist(Date.now() + 2000);
    assert.equal(tracker.live(tenant).sightings.length, 0);
    assert.deepEqual(summary(await listAll(tenant)), summary(before));
    assert.deepEqual(summary(await listAll(tenant, {}, 1)), summary(before));
    // A crash after archiving, before the next snapshot: the sighting is in both.
    await store.writeSnapshot("dead-replica", [before[0]!]);
    assert.deepEqual(summary(await listAll(tenant)), summary(before));
    await store.dropSnapshots(["dead-replica"]);
  });

  it("counts a replayed batch, or the rest of a half-written one, once", async () => {
    const tenant = "t-replay";
    const t0 = Date.now() - MINUTE;
    const seen = [0, 1, 2, 3].map((i) => ({
      at: t0 + i * 500,
      trackId: 3,
      personId: "bob",
      similarity: 0.7,
    }));
    const batch = batchOf(seen);
    const origin = { tenantId: tenant, keyId: "key-1" };
    await events.insertBatch(origin, batch, new Date());
    const documents = toEventDocuments(origin, batch, new Date()).map((d) => ({
      ...d,
      personId: "bob",
      similarity: 0.7,
    }));
    // The first write of the batch got half-way (two events stored), its replay stored the other
    // two (not a duplicate: some were new), then it was sent once more (a duplicate).
    await tracker.record(tenant, documents.slice(0, 2), false);
    await tracker.record(tenant, documents, false);
    await tracker.record(tenant, documents, true);
    // As the event store tells it.
    const again = await replay(tracker, tenant, batch, seen);
    assert.equal(again.stored.duplicate, true);
    const [sighting] = await listAll(tenant);
    assert.equal(sighting?.observations, 4);
    assert.equal(sighting?.lastSeenAt.getTime(), t0 + 1500);
  });

  it("after a crash, a restarted tracker rebuilds open sightings from the events, counting what was not written yet, once", async () => {
    const tenant = "t-restart";
    const t0 = Date.now() - MINUTE;
    const seen = [0, 1, 2].map((i) => ({ at: t0 + i * 1000, trackId: 4 }));
    const first = batchOf(seen);
    await replay(tracker, tenant, first, seen);
    await tracker.persist();
    const [written] = await listAll(tenant);
    assert.equal(written?.observations, 3);
    // The next batch is stored and acknowledged, then the process dies before its next snapshot:
    const lostSeen = [{ at: t0 + 4000, trackId: 4 }];
    const lost = batchOf(lostSeen);
    await events.insertBatch({ tenantId: tenant, keyId: "key-1" }, lost, new Date());
    // A third batch was sent and never acknowledged (the process died before storing it).
    const thirdSeen = [5000, 6000].map((ms) => ({ at: t0 + ms, trackId: 4 }));
    const third = batchOf(thirdSeen);

    const restarted = new SightingTracker({ store, events, log });
    await restarted.start();
    try {
      // The worker replays what was not acknowledged; a replay of the acknowledged first batch counts nothing.
      await replay(restarted, tenant, third, thirdSeen);
      assert.equal((await replay(restarted, tenant, first, seen)).stored.duplicate, true);
      const sightings = await listAll(tenant, {}, 100, restarted);
      assert.deepEqual(
        sightings.map((s) => [s._id, s.observations, s.lastSeenAt.getTime()]),
        [[written!._id, 6, t0 + 6000]],
      );
    } finally {
      await restarted.stop();
    }
  });

  it("pages newest last-seen first across hours, with filters by time", async () => {
    const tenant = "t-pages";
    const now = Date.now();
    const times = [now - 10_000, now - 70 * MINUTE, now - 3 * 60 * MINUTE, now - 3 * 60 * MINUTE + 1];
    for (const [i, at] of times.entries()) {
      await stream(tracker, tenant, [{ at, trackId: 100 + i }], { cameraId: `cam-${i % 2}` });
    }
    const one = await listAll(tenant, {}, 1);
    assert.deepEqual(
      one.map((s) => s.trackId),
      [100, 101, 103, 102],
    );
    const byCamera = await listAll(tenant, { cameraId: "cam-1" }, 1);
    assert.deepEqual(
      byCamera.map((s) => s.trackId),
      [101, 103],
    );
    const window = await listAll(tenant, { fromMs: now - 2 * 60 * MINUTE, toMs: now - MINUTE });
    assert.deepEqual(
      window.map((s) => s.trackId),
      [101],
    );
    // Tenants see only their own.
    assert.equal((await listAll("t-someone-else")).length, 0);
  });
});
