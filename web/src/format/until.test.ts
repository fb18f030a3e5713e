import { describe, expect, it } from "vitest";
import { formatUntil } from "./until.ts";

describe("formatUntil", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  it("names the largest whole unit ahead", () => {
    expect(formatUntil(at(3 * 86_400 + 3600), now)).toBe("in 3 days");
    expect(formatUntil(at(20 * 3600 + 59), now)).toBe("in 20 hours");
    expect(formatUntil(at(5 * 60), now)).toBe("in 5 minutes");
    expect(formatUntil(at(12), now)).toBe("in 12 seconds");
    expect(formatUntil(at(-5), now)).toBe("in 0 seconds");
  });
});
