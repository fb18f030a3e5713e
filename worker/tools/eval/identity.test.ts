// The default embedder must recognize people: on real, different photos of the same people (dlib's
// examples/johns, face-recognition's Obama/Biden), through BlazeFace and the aligner, at camera-like
// face sizes of 150 and 70 px, its EER must stay at or under 2 % and rank-1 at or over 98 %.
// (The data sets are fetched and cached by test-support/face-datasets.ts; `npm run eval:faces`
// reports every embedder.)
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlazeFaceDetector } from "../../src/detectors/blazeface.ts";
import type { Embedder } from "../../src/embedders/embedder.ts";
import { DEFAULT_EMBEDDER_TYPE, embedderEntry, openEmbedder } from "../../src/embedders/index.ts";
import { MODELS } from "../../src/models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { embedIdentityPhotos, formatDistribution, formatReport, verify } from "./identity-eval.ts";

describe(`default embedder (${DEFAULT_EMBEDDER_TYPE}) on real identities`, () => {
  let detector: BlazeFaceDetector;
  let embedder: Embedder;
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    requireModel(embedderEntry(DEFAULT_EMBEDDER_TYPE));
    detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    embedder = await openEmbedder(DEFAULT_EMBEDDER_TYPE, TEST_MODELS_DIR);
  });
  after(async () => {
    await detector?.close();
    await embedder?.close();
  });

  for (const faceSize of [150, 70]) {
    it(`EER ≤ 2 % and rank-1 ≥ 98 % with ${faceSize}-px faces`, async (t) => {
      const set = await embedIdentityPhotos(detector, embedder, faceSize);
      assert.deepEqual(
        set.missed.filter((f) => f.includes("/johns/")),
        [],
        "every johns photo has its face found",
      );
      const r = verify(set.photos);
      t.diagnostic(`${set.photos.length} photos: ${formatReport(r)}`);
      t.diagnostic(`genuine  ${formatDistribution(r.genuine)}`);
      t.diagnostic(`impostor ${formatDistribution(r.impostor)}`);
      assert.ok(r.genuine.count > 250 && r.impostor.count > 1000, "enough pairs to judge");
      assert.ok(r.eer <= 0.02, formatReport(r));
      assert.ok(r.rank1 >= 0.98, formatReport(r));
    });
  }
});
