import { describe, expect, it } from "vitest";
import type { Sighting } from "../api/types.ts";
import {
  LIVE_LIST_LIMIT,
  matchesSightingFilters,
  mergeSighting,
  parseSighting,
  reconnectDelay,
} from "./sightings.ts";

const sighting = (id: string, lastSeenAt: string, extra: Partial<Sighting> = {}): Sighting => ({
  id,
  personId: null,
  personName: null,
  watchlist: false,
  trackId: 1,
  workerId: "w1",
  siteId: "site-a",
  cameraId: "cam-1",
  model: "insightface/w600k_r50",
  firstSeenAt: lastSeenAt,
  lastSeenAt,
  observations: 1,
  bestSimilarity: null,
  bestEventId: "e1",
  bestEventHasThumbnail: true,
  ...extra,
});

describe("folding live sightings into the list", () => {
  const list = [sighting("b", "2026-12-06T10:02:00Z"), sighting("a", "2026-12-06T10:01:00Z")];

  it("puts a new sighting on top", () => {
    const merged = mergeSighting(list, sighting("c", "2026-12-06T10:03:00Z"), {});
    expect(merged.map((s) => s.id)).toEqual(["c", "b", "a"]);
  });

  it("replaces an updated sighting and moves it by its new last-seen time", () => {
    const updated = sighting("a", "2026-12-06T10:05:00Z", { observations: 9 });
    const merged = mergeSighting(list, updated, {});
    expect(merged.map((s) => [s.id, s.observations])).toEqual([
      ["a", 9],
      ["b", 1],
    ]);
  });

  it("keeps out sightings the filters exclude, and drops a row that stops matching", () => {
    const elsewhere = sighting("c", "2026-12-06T10:03:00Z", { cameraId: "cam-2" });
    expect(mergeSighting(list, elsewhere, { cameraId: "cam-1" }).map((s) => s.id)).toEqual(["b", "a"]);
    const nowIdentified = sighting("a", "2026-12-06T10:04:00Z", { personId: "p1" });
    expect(mergeSighting(list, nowIdentified, { identified: false }).map((s) => s.id)).toEqual(["b"]);
  });

  it("keeps at most the live-list limit", () => {
    const long = Array.from({ length: LIVE_LIST_LIMIT }, (_, i) =>
      sighting(`s${i}`, new Date(Date.UTC(2026, 11, 6, 9) - i * 1000).toISOString()),
    );
    const merged = mergeSighting(long, sighting("new", "2026-12-06T10:00:00Z"), {});
    expect(merged).toHaveLength(LIVE_LIST_LIMIT);
    expect(merged[0]!.id).toBe("new");
  });
});

describe("filters", () => {
  it("match person, identified and time range as the server does", () => {
    const s = sighting("a", "2026-12-06T10:01:00Z", { personId: "p1", firstSeenAt: "2026-12-06T10:00:00Z" });
    expect(matchesSightingFilters(s, { personId: "p1", identified: true })).toBe(true);
    expect(matchesSightingFilters(s, { personId: "p2" })).toBe(false);
    expect(matchesSightingFilters(s, { identified: false })).toBe(false);
    expect(matchesSightingFilters(s, { from: "2026-12-06T10:02:00Z" })).toBe(false);
    expect(matchesSightingFilters(s, { to: "2026-12-06T09:59:00Z" })).toBe(false);
    expect(matchesSightingFilters(s, { from: "2026-12-06T09:00:00Z", to: "2026-12-06T10:00:30Z" })).toBe(
      true,
    );
  });
});

describe("stream frames", () => {
  it("parse a sighting, and refuse what is not one", () => {
    const s = sighting("a", "2026-12-06T10:01:00Z");
    expect(parseSighting(JSON.stringify(s))).toEqual(s);
    expect(parseSighting("not json")).toBeNull();
    expect(parseSighting(JSON.stringify({ id: "x" }))).toBeNull();
  });
});

describe("reconnecting", () => {
  it("backs off from 1 s, doubling, to at most 30 s, with jitter below the step", () => {
    expect([0, 1, 2, 3, 10].map((a) => reconnectDelay(a, () => 0))).toEqual([1000, 2000, 4000, 8000, 30000]);
    expect(reconnectDelay(0, () => 1)).toBe(700);
  });
});
