/**
 * Two replicas of the gallery on one real database: a face added or removed through one is
 * searchable (or gone) on the other within a second, through the polled change collection alone.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import type { Connection } from "mongoose";
import { GalleryReplica, vectorBytes } from "./gallery-replica.ts";
import { type PeopleModels, peopleModels } from "./models.ts";

const MODEL = "dlib/resnet-v1-128";

function unitVector(seed: number, dim = 128): Float32Array {
  const v = new Float32Array(dim).map((_, i) => Math.sin(seed * 7.3 + i * 1.7));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** A stored face as Faces.enrol writes it: the gallery's part, the rest placeholders. */
function storedFace(face: {
  _id: string;
  tenantId: string;
  personId: string;
  embeddings: { model: string; dim: number; vector: Buffer }[];
}) {
  return {
    ...face,
    box: { x: 0, y: 0, width: 100, height: 100 },
    detScore: 0.9,
    detector: "test",
    cropJpeg: Buffer.from([1]),
    cropSize: 112,
    regionJpeg: Buffer.from([1]),
    regionLandmarks: [],
    createdAt: new Date(),
    createdBy: "test",
  };
}

describe("gallery replicas", () => {
  let db: TestDatabase;
  const connections: Connection[] = [];
  const replicas: GalleryReplica[] = [];
  let models: PeopleModels;

  before(async () => {
    db = await startTestDatabase();
    const log = createLogger("gallery-test", "warn");
    for (let i = 0; i < 2; i++) {
      const connection = await connectDatabase(db.url, db.dbName);
      connections.push(connection);
      models = await peopleModels(connection);
      const replica = new GalleryReplica({ models, log, pollMs: 200 });
      await replica.load();
      replica.start();
      replicas.push(replica);
    }
  });
  after(async () => {
    for (const r of replicas) await r.stop();
    for (const c of connections) await c.close();
    await db?.stop();
  });

  it("makes a face enrolled on one replica searchable on the other within 1 s, and its removal too", async () => {
    const [a, b] = replicas as [GalleryReplica, GalleryReplica];
    const vector = unitVector(1);
    const face = {
      _id: crypto.randomUUID(),
      tenantId: "t-a",
      personId: "p-1",
      embeddings: [{ model: MODEL, dim: 128, vector: vectorBytes(vector) }],
    };
    // What Faces.enrol does: store the face, then announce it.
    await models.faces.create(storedFace(face));
    const added = Date.now();
    await a.added(face);
    assert.equal(
      (await a.gallery.of("t-a", MODEL)?.search([vector], 1))?.[0]?.[0]?.personId,
      "p-1",
      "at once where it was added",
    );
    await until(
      "the other replica finds the face",
      async () => (await b.gallery.of("t-a", MODEL)?.search([vector], 1))?.[0]?.[0]?.faceId === face._id,
    );
    assert.ok(Date.now() - added < 1000, `took ${Date.now() - added} ms`);
    assert.equal(b.gallery.of("t-b", MODEL), undefined, "other tenants see nothing");

    await models.faces.deleteOne({ _id: face._id });
    const removed = Date.now();
    await a.removed("t-a", "p-1", [face._id]);
    await until("the other replica drops the face", () => b.gallery.of("t-a", MODEL)?.size === 0);
    assert.ok(Date.now() - removed < 1000, `took ${Date.now() - removed} ms`);
  });

  it("a replica that starts later loads every stored face", async () => {
    const face = {
      _id: crypto.randomUUID(),
      tenantId: "t-a",
      personId: "p-2",
      embeddings: [{ model: MODEL, dim: 128, vector: vectorBytes(unitVector(2)) }],
    };
    await models.faces.create(storedFace(face));
    const late = new GalleryReplica({ models, log: createLogger("gallery-test", "warn"), pollMs: 200 });
    await late.load();
    assert.equal(
      (await late.gallery.of("t-a", MODEL)?.search([unitVector(2)], 1))?.[0]?.[0]?.faceId,
      face._id,
    );
  });

  it("a burst of changes larger than one database reply (a bulk import) reaches the other replica whole", async () => {
    // Past 500 changes (one reply) and 1,000 faces (read in one pass instead of by id).
    const count = 1100;
    const chunk = 50; // FerretDB: bulk writes well under 100 documents
    const faceIds = Array.from({ length: count }, () => crypto.randomUUID());
    for (let start = 0; start < count; start += chunk) {
      const ids = faceIds.slice(start, start + chunk);
      await models.faces.insertMany(
        ids.map((_id, i) =>
          storedFace({
            _id,
            tenantId: "t-bulk",
            personId: `p-${start + i}`,
            embeddings: [{ model: MODEL, dim: 8, vector: vectorBytes(unitVector(start + i, 8)) }],
          }),
        ),
      );
    }
    // Announced as an import would: straight into the change collection, no replica told.
    for (let start = 0; start < count; start += chunk)
      await models.galleryChanges.insertMany(
        faceIds.slice(start, start + chunk).map((faceId, i) => ({
          _id: crypto.randomUUID(),
          tenantId: "t-bulk",
          kind: "added",
          faceId,
          personId: `p-${start + i}`,
          at: new Date(),
        })),
      );
    for (const replica of replicas)
      await until(
        "every imported face is in the gallery",
        () => replica.gallery.of("t-bulk", MODEL)?.size === count,
      );
    const last = count - 1;
    assert.equal(
      (await replicas[1]!.gallery.of("t-bulk", MODEL)?.search([unitVector(last, 8)], 1))?.[0]?.[0]?.personId,
      `p-${last}`,
    );
  });
});
