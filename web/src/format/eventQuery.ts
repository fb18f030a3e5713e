import type { LocationQuery, LocationQueryRaw } from "vue-router";
import type { EventFilters } from "../api/types.ts";

/**
 * The Events page's filters live in the address bar, so a filtered view can be bookmarked
 * or shared, and survives the trip through sign-in when the session ends.
 */
const FIELDS = ["siteId", "cameraId", "workerId", "from", "to"] as const;

export function filtersFromQuery(query: LocationQuery): EventFilters {
  const filters: EventFilters = {};
  for (const field of FIELDS) {
    const value = query[field];
    if (typeof value === "string" && value !== "") filters[field] = value;
  }
  return filters;
}

export function queryFromFilters(filters: EventFilters): LocationQueryRaw {
  const query: LocationQueryRaw = {};
  for (const field of FIELDS) {
    const value = filters[field]?.trim();
    if (value) query[field] = value;
  }
  return query;
}
