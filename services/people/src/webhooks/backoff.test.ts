import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextAttemptAt } from "./dispatcher.ts";

describe("webhook retry schedule", () => {
  const retry = { baseMs: 30_000, maxMs: 3_600_000, windowMs: 86_400_000 };
  const created = new Date(0);

  it("doubles the delay after each failure, with 50-100 % jitter, up to the maximum", () => {
    const delays = [1, 2, 3, 4, 10, 20].map((failures) => [
      nextAttemptAt(created, failures, 1000, retry, () => 0)!.getTime() - 1000,
      nextAttemptAt(created, failures, 1000, retry, () => 0.999999)!.getTime() - 1000,
    ]);
    assert.deepEqual(
      delays.map(([low]) => low),
      [15_000, 30_000, 60_000, 120_000, 1_800_000, 1_800_000],
    );
    for (const [low, high] of delays) assert.ok(high! > low! && high! <= low! * 2);
  });

  it("makes a last attempt at the end of the window, then none", () => {
    const late = retry.windowMs - 60_000;
    assert.equal(nextAttemptAt(created, 20, late, retry, () => 1)!.getTime(), retry.windowMs);
    assert.equal(nextAttemptAt(created, 21, retry.windowMs, retry), undefined);
  });

  it("adds up to about 30 attempts over 24 hours with the defaults", () => {
    let now = 0;
    let failures = 0;
    for (
      let at = nextAttemptAt(created, 1, now, retry, () => 0.75);
      at;
      at = nextAttemptAt(created, ++failures + 1, now, retry, () => 0.75)
    ) {
      now = at.getTime();
      if (failures > 100) break;
    }
    assert.ok(failures > 20 && failures < 40, `${failures} retries`);
  });
});
