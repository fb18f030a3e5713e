import { defineStore } from "pinia";
import { api } from "../api/instance.ts";
import type { EventFilters, FaceEvent, FaceEventPage } from "../api/types.ts";
import { useKeysetPages } from "../composables/useKeysetPages.ts";

export const EVENTS_PAGE_SIZE = 25;

export const useEventsStore = defineStore("events", () => {
  const { items: events, ...pages } = useKeysetPages<FaceEvent, EventFilters>(async (filters, pageToken) => {
    const page = await api.get<FaceEventPage>("/v1/events", {
      ...filters,
      pageSize: EVENTS_PAGE_SIZE,
      pageToken,
    });
    return { items: page.events, nextPageToken: page.nextPageToken };
  });
  return { events, ...pages };
});
