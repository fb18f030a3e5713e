import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Coalescer } from "./coalescer.ts";

/** A run that records the items of each call and answers each item doubled, after a tick. */
function recordingRun() {
  const calls: number[][] = [];
  const run = async (items: number[]) => {
    calls.push(items);
    await new Promise((resolve) => setImmediate(resolve));
    return items.map((n) => n * 2);
  };
  return { calls, run };
}

describe("Coalescer", () => {
  it("runs the first submission at once and what arrives meanwhile together, up to maxItems, each answered its own outputs", async () => {
    const coalescer = new Coalescer<number, number>({ maxItems: 5, failQueuedOnError: false });
    const { calls, run } = recordingRun();
    const answers = await Promise.all([
      coalescer.submit("k", [1], run),
      coalescer.submit("k", [2, 3], run),
      coalescer.submit("k", [4, 5, 6], run),
      coalescer.submit("k", [7], run),
    ]);
    assert.deepEqual(answers, [[2], [4, 6], [8, 10, 12], [14]]);
    // [2,3] + [4,5,6] = 5 items; [7] would make 6, so it waits for the next run.
    assert.deepEqual(calls, [[1], [2, 3, 4, 5, 6], [7]]);
  });

  it("runs up to maxRunsPerKey runs of a key at once, each taking what waits when it starts", async () => {
    const coalescer = new Coalescer<number, number>({
      maxItems: 2,
      maxRunsPerKey: 2,
      failQueuedOnError: false,
    });
    const calls: number[][] = [];
    let running = 0;
    let most = 0;
    const run = async (items: number[]) => {
      calls.push(items);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return items;
    };
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => coalescer.submit("k", [n], run)));
    assert.deepEqual(answers, [[1], [2], [3], [4], [5]]);
    assert.equal(most, 2);
    // Two runs start at once; the three that queued meanwhile go two, then one, as runs end.
    assert.deepEqual(calls, [[1], [2], [3, 4], [5]]);
  });

  it("keeps keys apart", async () => {
    const coalescer = new Coalescer<number, number>({ maxItems: 10, failQueuedOnError: false });
    const { calls, run } = recordingRun();
    await Promise.all([coalescer.submit("a", [1], run), coalescer.submit("b", [2], run)]);
    assert.deepEqual(calls, [[1], [2]]);
  });

  it("fails the submissions of a failed run; the queued ones run, or fail with it when so configured", async () => {
    for (const failQueuedOnError of [false, true]) {
      const coalescer = new Coalescer<number, number>({ maxItems: 1, failQueuedOnError });
      let runs = 0;
      const failing = async (items: number[]) => {
        runs++;
        await new Promise((resolve) => setImmediate(resolve));
        if (items[0] === 1) throw new Error("down");
        return items;
      };
      const outcomes = await Promise.allSettled([
        coalescer.submit("k", [1], failing),
        coalescer.submit("k", [2], failing),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        failQueuedOnError ? ["rejected", "rejected"] : ["rejected", "fulfilled"],
      );
      assert.equal(runs, failQueuedOnError ? 1 : 2);
      // The key is free again afterwards.
      assert.deepEqual(await coalescer.submit("k", [3], failing), [3]);
    }
  });
});
