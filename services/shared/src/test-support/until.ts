// Polling for a condition in tests that watch another process or a stream, with a deadline that
// fails the test naming what never happened.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

/** Resolves with the first value of `check` that is neither undefined nor false. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}
