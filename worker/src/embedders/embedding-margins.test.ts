// Embeddings of one person across small shifts, scale and brightness changes must be far more
// similar than embeddings of different people. Runs every embedder whose model file is present;
// the figures are printed as diagnostics (and quoted in the README).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlazeFaceDetector } from "../detectors/blazeface.ts";
import { MODELS } from "../models/manifest.ts";
import {
  type AlignedFace,
  alignedIdentityFaces,
  formatSeparation,
  separation,
} from "../test-support/identities.ts";
import { missingModel, requireModel, TEST_MODELS_DIR } from "../test-support/models.ts";
import type { Embedder } from "./embedder.ts";
import { openEmbedder } from "./index.ts";

describe("embedding margins on real faces", () => {
  let faces: AlignedFace[];
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    faces = await alignedIdentityFaces(detector);
    await detector.close();
  });

  const measure = async (embedder: Embedder) => {
    const embeddings = await embedder.embed(faces.map((f) => f.aligned));
    for (const e of embeddings) {
      assert.equal(e.length, embedder.dim);
      const norm = Math.hypot(...e);
      assert.ok(Math.abs(norm - 1) < 1e-5, `L2-normalised (norm ${norm})`);
    }
    return separation(
      faces.map((f) => f.identity),
      embeddings,
    );
  };

  describe("mobilefacenet", () => {
    let embedder: Embedder;
    before(async () => {
      requireModel(MODELS.mobilefacenet);
      embedder = await openEmbedder("mobilefacenet", TEST_MODELS_DIR);
    });
    after(() => embedder?.close());

    it("tells seven people apart across camera-like variations", async (t) => {
      const s = await measure(embedder);
      t.diagnostic(`mobilefacenet: ${formatSeparation(s)}`);
      // This graph's embeddings share one dominant direction (different people still score ~0.98),
      // so similarity is judged as angular distance 1 - cos: a person's variations must sit ten
      // times closer than other people, and every shot's nearest neighbour must be the same person.
      assert.ok(1 - s.sameMean < (1 - s.differentMean) / 10, formatSeparation(s));
      assert.equal(s.nearestNeighbourAccuracy, 1, formatSeparation(s));
    });
  });

  for (const type of ["insightface", "sface"] as const) {
    describe(type, () => {
      const skip = missingModel(MODELS[type]);
      it("separates seven people with one threshold across camera-like variations", { skip }, async (t) => {
        const embedder = await openEmbedder(type, TEST_MODELS_DIR);
        try {
          const s = await measure(embedder);
          t.diagnostic(`${type}: ${formatSeparation(s)}`);
          assert.ok(s.margin > 0.1, formatSeparation(s));
        } finally {
          await embedder.close();
        }
      });
    });
  }
});
