/**
 * A model added to EMBEDDER_TYPES after faces were enrolled: the service computes their embeddings
 * for it from the stored region, with the real models, on a real database; the gallery gets them.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { loopScorer } from "@facerec/gallery/gallery-index.ts";
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { cosine } from "@facerec/worker/src/embedders/embedder.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { ASTRONAUT_PNG } from "@facerec/worker/src/test-support/photos.ts";
import type { Connection } from "mongoose";
import { AuditTrail } from "./audit-trail.ts";
import { AnalyzerSlot, FaceAnalyzer } from "./face-analyzer.ts";
import { Faces } from "./faces.ts";
import { GalleryReplica, vectorBytes, vectorOf } from "./gallery-replica.ts";
import { type PeopleModels, peopleModels } from "./models.ts";
import { decodePhoto } from "./photo.ts";

const RULES = { minFacePx: 60, minScore: 0.75 };

describe("embedding backfill", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: PeopleModels;
  let before1: FaceAnalyzer;
  let after2: FaceAnalyzer;
  const audit = internalClient(AuditServiceClient, "127.0.0.1:1"); // never called by a backfill
  const ingest = internalClient(IngestQueryServiceClient, "127.0.0.1:1"); // nor is ingest

  before(async () => {
    for (const m of [MODELS.dlib, MODELS.mobilefacenet, MODELS.blazefaceBack]) requireModel(m);
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await peopleModels(connection);
    before1 = await FaceAnalyzer.open(TEST_MODELS_DIR, "blazeface", ["dlib"], RULES);
    after2 = await FaceAnalyzer.open(TEST_MODELS_DIR, "blazeface", ["dlib", "mobilefacenet"], RULES);
  });
  after(async () => {
    audit.close();
    ingest.close();
    await before1?.close();
    await after2?.close();
    await connection?.close();
    await db?.stop();
  });

  it("embeds stored faces for a model added later, as the photo itself would be", async () => {
    const image = await decodePhoto(readFileSync(ASTRONAUT_PNG));
    const [face] = await before1.detect(image);
    const record = await before1.record(image, face!);
    await models.faces.create({
      _id: "face-1",
      tenantId: "t-a",
      personId: "p-1",
      box: { ...face!.box },
      detScore: face!.score,
      detector: before1.detector.model,
      cropJpeg: record.cropJpeg,
      cropSize: record.cropSize,
      regionJpeg: record.regionJpeg,
      regionLandmarks: record.regionLandmarks,
      embeddings: record.embeddings.map((e) => ({
        model: e.model,
        dim: e.dim,
        vector: vectorBytes(e.vector),
      })),
      createdAt: new Date(),
      createdBy: "test",
    });

    const replica = new GalleryReplica({ models, log: createLogger("backfill-test", "warn"), pollMs: 200 });
    await replica.load();
    const faces = new Faces({
      models,
      analyzer: new AnalyzerSlot(async () => after2),
      replica,
      audit: new AuditTrail(audit),
      rules: RULES,
      scorer: loopScorer,
      ingest,
    });
    assert.equal(await faces.backfillEmbeddings(), 1);
    assert.equal(await faces.backfillEmbeddings(), 0, "nothing left to do, and nothing doubled");

    const stored = await models.faces
      .findOne({ _id: "face-1" })
      .lean<{ embeddings: { model: string; vector: Buffer }[] }>();
    const byModel = new Map(stored!.embeddings.map((e) => [e.model, e]));
    assert.deepEqual([...byModel.keys()].sort(), ["dlib/resnet-v1-128", MODELS.mobilefacenet.id].sort());
    const backfilled = vectorOf(byModel.get(MODELS.mobilefacenet.id)!.vector);
    // From the original photo directly, for comparison: the region is a JPEG of part of it.
    const direct = (await after2.record(image, face!)).embeddings.find(
      (e) => e.model === MODELS.mobilefacenet.id,
    )!;
    assert.ok(cosine(backfilled, direct.vector) > 0.95, `cosine ${cosine(backfilled, direct.vector)}`);
    assert.equal(replica.gallery.of("t-a", MODELS.mobilefacenet.id)?.size, 1, "searchable for the new model");
  });
});
