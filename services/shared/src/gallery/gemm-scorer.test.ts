/** The onnxruntime scorer ranks exactly as the plain loop does, widening when people have many faces. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type BatchScorer, loopScorer, ModelGallery } from "./gallery-index.ts";
import { openGemmScorer } from "./gemm-scorer.ts";

describe("onnxruntime gallery scorer", () => {
  let gemm: { scorer: BatchScorer; close(): Promise<void> };
  before(async () => {
    gemm = await openGemmScorer();
  });
  after(() => gemm?.close());

  it("finds the same people with the same similarities as the loop, 100 faces per person", async () => {
    const dim = 64;
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647) * 2 - 1;
    };
    const unit = () => {
      const v = Float32Array.from({ length: dim }, random);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const gallery = new ModelGallery(dim);
    // 30 people of 100 faces each: asking for all 30 needs more than the first 4 × 30 rows.
    for (let i = 0; i < 3000; i++) gallery.add(`f${i}`, `p${i % 30}`, unit());
    const queries = Array.from({ length: 5 }, unit);
    const viaGemm = await gallery.search(queries, 30, { scorer: gemm.scorer });
    const viaLoop = await gallery.search(queries, 30, { scorer: loopScorer });
    for (const [b, matches] of viaGemm.entries()) {
      assert.equal(matches.length, 30, "every person, found by widening past the first 120 faces");
      assert.deepEqual(
        matches.map((m) => [m.personId, m.faceId]),
        viaLoop[b]!.map((m) => [m.personId, m.faceId]),
      );
      for (const [i, m] of matches.entries())
        assert.ok(Math.abs(m.similarity - viaLoop[b]![i]!.similarity) < 1e-5);
    }
    assert.deepEqual(await new ModelGallery(dim).search(queries, 3, { scorer: gemm.scorer }), [
      [],
      [],
      [],
      [],
      [],
    ]);
  });
});
