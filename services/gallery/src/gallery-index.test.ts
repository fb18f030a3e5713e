/** The gallery index's exact search: best face per person, top k, removal, tenants and models apart. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BatchScorer, Gallery, loopScorer, ModelGallery } from "./gallery-index.ts";

const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs, (x) => x / n);
};

describe("gallery index", () => {
  it("ranks people by their most similar face, one entry per person", async () => {
    const g = new ModelGallery(2);
    g.add("f1", "alice", unit(1, 0));
    g.add("f2", "alice", unit(0.9, 0.1));
    g.add("f3", "bob", unit(0, 1));
    g.add("f4", "carol", unit(0.7, 0.7));
    const [matches = []] = await g.search([unit(1, 0.05)], 2);
    assert.deepEqual(
      matches.map((m) => [m.personId, m.faceId]),
      [
        ["alice", "f1"],
        ["carol", "f4"],
      ],
    );
    assert.ok(matches[0]!.similarity > matches[1]!.similarity);
    assert.deepEqual(
      (await g.search([unit(1, 0)], 5, { minSimilarity: 0.5 }))[0]!.map((m) => m.personId),
      ["alice", "carol"],
    );
  });

  it("matches an exhaustive scan on a larger random gallery, also after removals", async () => {
    const dim = 16;
    const g = new ModelGallery(dim);
    const rows = new Map<string, { person: string; v: Float32Array }>();
    let seed = 1;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647) * 2 - 1;
    };
    for (let i = 0; i < 2000; i++) {
      const v = unit(...Array.from({ length: dim }, rand));
      const person = `p${i % 300}`;
      rows.set(`f${i}`, { person, v });
      g.add(`f${i}`, person, v);
    }
    for (let i = 0; i < 2000; i += 3) {
      g.remove(`f${i}`);
      rows.delete(`f${i}`);
    }
    assert.equal(g.size, rows.size);
    const q = unit(...Array.from({ length: dim }, rand));
    const best = new Map<string, number>();
    for (const { person, v } of rows.values()) {
      const s = v.reduce((acc, x, i) => acc + x * q[i]!, 0);
      best.set(person, Math.max(best.get(person) ?? -2, s));
    }
    const expected = [...best].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const [got = []] = await g.search([q], 10);
    assert.deepEqual(
      got.map((m) => m.personId),
      expected.map(([p]) => p),
    );
    for (const [i, m] of got.entries()) assert.ok(Math.abs(m.similarity - expected[i]![1]) < 1e-5);
  });

  // The scorer reads rows it was handed while the gallery goes on changing (onnxruntime runs it
  // a turn of the event loop later): a face removed meanwhile moves the last row into its place.
  describe("a face removed while the scorer runs", () => {
    const gallery = () => {
      const g = new ModelGallery(2);
      g.add("f-alice", "alice", unit(1, 0));
      g.add("f-bob", "bob", unit(0, 1));
      g.add("f-carol", "carol", unit(0.6, 0.8));
      return g;
    };
    const assertMatchesOf = (g: ModelGallery, matches: { personId: string; faceId: string }[]) => {
      assert.ok(matches.length > 0);
      for (const m of matches) assert.ok(g.has(m.faceId), `${m.faceId} is no longer in the gallery`);
      const byFace = new Map([...g.entries()].map((e) => [e.faceId, e.personId]));
      for (const m of matches) assert.equal(m.personId, byFace.get(m.faceId));
    };

    it("before the scorer reads the rows: no row past the end, no face that is gone", async () => {
      const g = gallery();
      let first = true;
      const removesFirst: BatchScorer = (batch) => {
        if (first) g.remove("f-alice");
        first = false;
        return loopScorer(batch);
      };
      const [matches = []] = await g.search([unit(0.6, 0.8)], 3, { scorer: removesFirst });
      assertMatchesOf(g, matches);
      assert.deepEqual(
        matches.map((m) => m.personId),
        ["carol", "bob"],
      );
    });

    it("after the scorer read the rows: no similarity given to the face that moved", async () => {
      const g = gallery();
      let first = true;
      const removesAfter: BatchScorer = async (batch) => {
        const found = await loopScorer(batch);
        if (first) g.remove("f-alice");
        first = false;
        return found;
      };
      const [matches = []] = await g.search([unit(1, 0)], 1, { scorer: removesAfter });
      assertMatchesOf(g, matches);
      assert.equal(matches[0]?.personId, "carol", "alice is gone; carol is the closest left");
      assert.ok(Math.abs(matches[0]!.similarity - 0.6) < 1e-6);
    });
  });

  it("keeps tenants and models apart and removes a face from every model", () => {
    const gallery = new Gallery();
    gallery.add({ tenantId: "a", model: "m1", faceId: "f", personId: "p", vector: unit(1, 0) });
    gallery.add({ tenantId: "a", model: "m2", faceId: "f", personId: "p", vector: unit(1, 0, 0) });
    assert.equal(gallery.of("b", "m1"), undefined);
    assert.equal(gallery.size, 2);
    assert.equal(gallery.remove("f"), true);
    assert.deepEqual(
      [gallery.of("a", "m1")?.size, gallery.of("a", "m2")?.size, gallery.remove("f")],
      [0, 0, false],
    );
  });
});
