import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "./backoff.ts";

describe("backoffDelay", () => {
  const exact = { initialMs: 100, maxMs: 1000, jitter: "none" } as const;

  it("doubles from the initial wait up to the cap, and stays there however many attempts", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, exact)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(backoffDelay(10_000, exact), 1000);
  });

  it("spreads the wait over [0, wait) with full jitter and [wait/2, wait) with equal jitter", () => {
    const full = { ...exact, jitter: "full" } as const;
    const equal = { ...exact, jitter: "equal" } as const;
    assert.equal(
      backoffDelay(2, full, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(2, full, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelay(2, equal, () => 0),
      200,
    );
    assert.equal(
      backoffDelay(2, equal, () => 0.5),
      300,
    );
    assert.ok(backoffDelay(9, equal, () => 0.999999) < 1000);
  });
});
