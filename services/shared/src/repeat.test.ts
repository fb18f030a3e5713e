import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { repeat } from "./repeat.ts";

/** A task that counts its runs and stays in flight until released. */
function gatedTask() {
  let release = () => {};
  const state = { runs: 0, inFlight: false, overlapped: false };
  const task = () => {
    if (state.inFlight) state.overlapped = true;
    state.runs++;
    state.inFlight = true;
    return new Promise<void>((resolve) => {
      release = () => {
        state.inFlight = false;
        resolve();
      };
    });
  };
  return { state, task, release: () => release() };
}

describe("repeat", () => {
  it("stop() during a run waits for it, and nothing runs after", async () => {
    const { state, task, release } = gatedTask();
    const errors: unknown[] = [];
    const loop = repeat(task, { everyMs: 10, now: true, onError: (err) => errors.push(err) });
    assert.equal(state.runs, 1, "ran at once");
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await sleep(30);
    assert.equal(stopped, false, "stop waits for the run in flight");
    release();
    await stopping;
    await sleep(50);
    assert.equal(state.runs, 1, "no run after stop");
    assert.deepEqual(errors, []);
  });

  it("runs again everyMs after each run ends, never two at once", async () => {
    const { state, task, release } = gatedTask();
    const errors: unknown[] = [];
    const loop = repeat(task, { everyMs: 10, onError: (err) => errors.push(err) });
    assert.equal(state.runs, 0, "first run after everyMs");
    await sleep(60);
    assert.equal(state.runs, 1, "a run in flight holds back the next");
    release();
    await sleep(60);
    assert.equal(state.runs, 2);
    assert.equal(state.overlapped, false);
    release();
    await loop.stop();
    assert.deepEqual(errors, []);
  });

  it("reports a failed run and goes on", async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const loop = repeat(
      async () => {
        runs++;
        throw new Error(`run ${runs}`);
      },
      { everyMs: 10, now: true, onError: (err) => errors.push(err) },
    );
    await sleep(100);
    await loop.stop();
    assert.ok(runs >= 2, `ran ${runs} times`);
    assert.equal(errors.length, runs);
    assert.match(String(errors[0]), /run 1/);
  });
});
