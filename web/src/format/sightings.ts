/** Pure rules of the Sightings list: which live updates belong in it, and where. */
import type { Sighting, SightingFilters } from "../api/types.ts";

/** Whether a sighting belongs in a list filtered so (the same filters the server applies). */
export function matchesSightingFilters(s: Sighting, f: SightingFilters): boolean {
  if (f.personId && s.personId !== f.personId) return false;
  if (f.cameraId && s.cameraId !== f.cameraId) return false;
  if (f.siteId && s.siteId !== f.siteId) return false;
  if (f.workerId && s.workerId !== f.workerId) return false;
  if (f.identified !== undefined && (s.personId !== null) !== f.identified) return false;
  const last = Date.parse(s.lastSeenAt);
  if (f.from && last < Date.parse(f.from)) return false;
  if (f.to && Date.parse(s.firstSeenAt) > Date.parse(f.to)) return false;
  return true;
}

/** How many rows a live list keeps: older ones fall off the bottom (they are a page away). */
export const LIVE_LIST_LIMIT = 200;

/**
 * The list (newest `lastSeenAt` first) with one new or updated sighting folded in: an update
 * replaces its row and moves with its new `lastSeenAt`; a new sighting takes its place by time
 * (normally the top). One that no longer matches the filters leaves.
 */
export function mergeSighting(list: readonly Sighting[], s: Sighting, filters: SightingFilters): Sighting[] {
  const rest = list.filter((row) => row.id !== s.id);
  if (!matchesSightingFilters(s, filters)) return rest;
  const at = Date.parse(s.lastSeenAt);
  let index = rest.findIndex((row) => Date.parse(row.lastSeenAt) <= at);
  if (index === -1) index = rest.length;
  return [...rest.slice(0, index), s, ...rest.slice(index)].slice(0, LIVE_LIST_LIMIT);
}

const isString = (v: unknown) => typeof v === "string";
const isNullableString = (v: unknown) => v === null || typeof v === "string";

/** A stream frame's data as a Sighting, or null when it is not one (a newer server's extra frames). */
export function parseSighting(data: string): Sighting | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  const ok =
    isString(v["id"]) &&
    isNullableString(v["personId"]) &&
    isString(v["cameraId"]) &&
    isString(v["siteId"]) &&
    isString(v["firstSeenAt"]) &&
    isString(v["lastSeenAt"]) &&
    !Number.isNaN(Date.parse(v["lastSeenAt"] as string));
  if (!ok) return null;
  return {
    personName: null,
    watchlist: false,
    trackId: 0,
    workerId: "",
    model: "",
    observations: 0,
    bestSimilarity: null,
    bestEventId: "",
    bestEventHasThumbnail: false,
    ...(v as object),
  } as Sighting;
}

/** Reconnect delays: 1 s doubling to 30 s, with up to 30 % jitter so tabs do not reconnect in step. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - 0.3 * random()));
}
