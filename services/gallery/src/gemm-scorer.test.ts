/**
 * The onnxruntime scorer ranks as the plain loop does, widening when people have many faces; and
 * its coarse int8 pass with the exact second pass finds what an exhaustive float32 scan finds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type BatchScorer, loopScorer, ModelGallery } from "./gallery-index.ts";
import { openGemmScorer } from "./gemm-scorer.ts";

let seed = 7;
const random = () => {
  seed = (seed * 16807) % 2147483647;
  return (seed / 2147483647) * 2 - 1;
};
const normalise = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const unit = (dim: number) => normalise(Float32Array.from({ length: dim }, random));

describe("onnxruntime gallery scorer", () => {
  let gemm: { scorer: BatchScorer; close(): Promise<void> };
  before(async () => {
    gemm = await openGemmScorer();
  });
  after(() => gemm?.close());

  it("finds the same people with the same similarities as the loop, 100 faces per person", async () => {
    const dim = 64;
    const gallery = new ModelGallery(dim);
    // 30 people of 100 faces each: asking for all 30 needs more than the first 4 × 30 rows.
    for (let i = 0; i < 3000; i++) gallery.add(`f${i}`, `p${i % 30}`, unit(dim));
    const queries = Array.from({ length: 5 }, () => unit(dim));
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

  it("finds the exhaustive float32 scan's people and similarities among near-identical faces, 512-d", async () => {
    const dim = 512;
    // 500 people of 8 faces each, every face a small step from its person's: the faces of one person
    // code within a few steps of each other, which the exact pass has to sort out.
    const gallery = new ModelGallery(dim);
    const faces: { personId: string; faceId: string; v: Float32Array }[] = [];
    const centres = Array.from({ length: 500 }, () => unit(dim));
    for (const [p, centre] of centres.entries())
      for (let f = 0; f < 8; f++) {
        const v = normalise(centre.map((x) => x + 0.004 * random()));
        faces.push({ personId: `p${p}`, faceId: `p${p}f${f}`, v });
        gallery.add(`p${p}f${f}`, `p${p}`, v);
      }
    // Probes near enrolled people (a new photo of them), and strangers.
    const queries = [
      ...Array.from({ length: 24 }, (_, i) => normalise(centres[i * 20]!.map((x) => x + 0.03 * random()))),
      ...Array.from({ length: 8 }, () => unit(dim)),
    ];
    const found = await gallery.search(queries, 5, { scorer: gemm.scorer });
    for (const [b, q] of queries.entries()) {
      const best = new Map<string, { faceId: string; s: number }>();
      for (const { personId, faceId, v } of faces) {
        let s = 0;
        for (let i = 0; i < dim; i++) s += q[i]! * v[i]!;
        if (s > (best.get(personId)?.s ?? -2)) best.set(personId, { faceId, s });
      }
      const expected = [...best].sort((x, y) => y[1].s - x[1].s).slice(0, 5);
      assert.deepEqual(
        found[b]!.map((m) => [m.personId, m.faceId]),
        expected.map(([personId, { faceId }]) => [personId, faceId]),
        `query ${b}`,
      );
      for (const [i, m] of found[b]!.entries()) assert.ok(Math.abs(m.similarity - expected[i]![1].s) < 1e-5);
    }
    assert.equal(found[0]![0]!.personId, "p0", "a new photo of p0 finds p0");
  });
});
