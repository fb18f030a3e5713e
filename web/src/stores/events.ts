import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api } from "../api/instance.ts";
import type { EventFilters, FaceEvent, FaceEventPage } from "../api/types.ts";
import { useResource } from "../composables/useResource.ts";

export const EVENTS_PAGE_SIZE = 25;

export const useEventsStore = defineStore("events", () => {
  const filters = ref<EventFilters>({});
  const events = ref<FaceEvent[]>([]);
  // The page token of each page visited so far: index 0 is the first page (""). The API
  // pages forward only, so going back re-reads a remembered token.
  const pageTokens = ref<string[]>([""]);
  const pageIndex = ref(0);
  const nextPageToken = ref("");
  const { loading, loaded, error, load } = useResource();

  async function fetchPage(index: number): Promise<void> {
    await load(
      () =>
        api.get<FaceEventPage>("/v1/events", {
          ...filters.value,
          pageSize: EVENTS_PAGE_SIZE,
          pageToken: pageTokens.value[index] ?? "",
        }),
      (page) => {
        events.value = page.events;
        nextPageToken.value = page.nextPageToken;
        pageIndex.value = index;
      },
    );
  }

  /** The first page under new filters. */
  function search(next: EventFilters): Promise<void> {
    filters.value = { ...next };
    pageTokens.value = [""];
    return fetchPage(0);
  }

  function nextPage(): Promise<void> {
    if (!nextPageToken.value) return Promise.resolve();
    pageTokens.value = [...pageTokens.value.slice(0, pageIndex.value + 1), nextPageToken.value];
    return fetchPage(pageIndex.value + 1);
  }

  function previousPage(): Promise<void> {
    if (pageIndex.value === 0) return Promise.resolve();
    return fetchPage(pageIndex.value - 1);
  }

  const hasNext = computed(() => nextPageToken.value !== "");
  const hasPrevious = computed(() => pageIndex.value > 0);

  return {
    filters,
    events,
    pageIndex,
    loading,
    loaded,
    error,
    hasNext,
    hasPrevious,
    search,
    nextPage,
    previousPage,
  };
});
