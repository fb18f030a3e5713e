/**
 * Sightings against a real database: how observations roll up, replays that count nothing twice
 * (also after a restart), a crash between storing events and their sightings, and pages.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
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
    tracker = new SightingTracker({ store, log });
    await tracker.start();
  });
  after(async () => {
    tracker.stop();
    await connection.close();
    await db.stop();
  });

  /** Stores a batch of one camera like ingest does, the matcher's verdicts given by `seen`. */
  const stream = async (
    into: SightingTracker,
    tenantId: string,
    seen: Seen[],
    opts: { cameraId?: string; workerId?: string; batchId?: string } = {},
  ) => {
    const batch = makeBatch({
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
    const origin = { tenantId, keyId: "key-1" };
    const stored = await events.insertBatch(origin, batch, new Date());
    const documents = toEventDocuments(origin, batch, new Date()).map((d, i) => ({
      ...d,
      personId: seen[i]!.personId ?? null,
      similarity: seen[i]!.similarity ?? null,
    }));
    await into.record(tenantId, documents, stored.duplicate);
    return { batch, documents, stored };
  };

  /** Every page of a listing, checking each token. */
  const listAll = async (tenantId: string, filter: SightingFilter = {}, size = 100) => {
    const all: SightingDoc[] = [];
    let after: ReturnType<typeof decodePageToken> | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await store.page(tenantId, filter, after, size);
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

  it("counts a replayed batch, or the rest of a half-written one, once", async () => {
    const tenant = "t-replay";
    const t0 = Date.now() - MINUTE;
    const seen = [0, 1, 2, 3].map((i) => ({
      at: t0 + i * 500,
      trackId: 3,
      personId: "bob",
      similarity: 0.7,
    }));
    await stream(tracker, tenant, seen.slice(0, 2), { batchId: "b-1" });
    // The whole batch again (the first two are duplicates, the last two new), then all of it again.
    const whole = { batchId: "b-1" };
    const half = await stream(tracker, tenant, seen, whole);
    assert.equal(half.stored.accepted, 2);
    const again = await stream(tracker, tenant, seen, whole);
    assert.equal(again.stored.duplicate, true);
    const [sighting] = await listAll(tenant);
    assert.equal(sighting?.observations, 4);
    assert.equal(sighting?.lastSeenAt.getTime(), t0 + 1500);
  });

  it("after a restart, a replay counts nothing twice, and events stored without their sightings are counted", async () => {
    const tenant = "t-restart";
    const t0 = Date.now() - MINUTE;
    const seen = [0, 1, 2].map((i) => ({
      at: t0 + i * 1000,
      trackId: 4,
      personId: "carol",
      similarity: 0.6,
    }));
    await stream(tracker, tenant, seen, { batchId: "r-1" });
    // A process that died after storing the next batch's events, before writing its sighting:
    const lost = makeBatch({
      batchId: "r-2",
      observations: [makeObservation({ capturedAt: new Date(t0 + 4000), trackId: 4 })],
    });
    await events.insertBatch({ tenantId: tenant, keyId: "key-1" }, lost, new Date());

    const restarted = new SightingTracker({ store, log });
    await restarted.start();
    try {
      // The worker replays both batches (neither ack arrived).
      await stream(restarted, tenant, seen, { batchId: "r-1" });
      const replay = await stream(restarted, tenant, [{ at: t0 + 4000, trackId: 4, personId: "carol" }], {
        batchId: "r-2",
      });
      assert.equal(replay.stored.duplicate, true);
      const [sighting, ...others] = await listAll(tenant);
      assert.equal(others.length, 0);
      assert.equal(sighting?.observations, 4);
      assert.equal(sighting?.lastSeenAt.getTime(), t0 + 4000);
    } finally {
      restarted.stop();
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
