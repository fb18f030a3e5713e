import { computed, type Ref, ref } from "vue";
import { useResource } from "./useResource.ts";

/** One page of a keyset-paged list, as the stores hand it over. */
export interface KeysetPage<Item> {
  items: Item[];
  nextPageToken: string;
}

/**
 * A list read a page at a time from a keyset-paged endpoint (events, people, sightings): forward by
 * the server's token, back by the tokens remembered on the way (the API pages forward only), and
 * from the first page again whenever the filters change. `fetchPage` reads one page.
 */
export function useKeysetPages<Item, Filters extends object>(
  fetchPage: (filters: Filters, pageToken: string) => Promise<KeysetPage<Item>>,
) {
  const filters = ref({}) as Ref<Filters>;
  const items = ref([]) as Ref<Item[]>;
  // The page token of each page visited so far: index 0 is the first page ("").
  const pageTokens = ref<string[]>([""]);
  const pageIndex = ref(0);
  const nextPageToken = ref("");
  const { loading, loaded, error, load } = useResource();

  async function show(index: number): Promise<void> {
    await load(
      () => fetchPage(filters.value, pageTokens.value[index] ?? ""),
      (page) => {
        items.value = page.items;
        nextPageToken.value = page.nextPageToken;
        pageIndex.value = index;
      },
    );
  }

  /** The first page under new filters. */
  function search(next: Filters): Promise<void> {
    filters.value = { ...next };
    pageTokens.value = [""];
    return show(0);
  }

  const reload = () => show(pageIndex.value);

  function nextPage(): Promise<void> {
    if (!nextPageToken.value) return Promise.resolve();
    pageTokens.value = [...pageTokens.value.slice(0, pageIndex.value + 1), nextPageToken.value];
    return show(pageIndex.value + 1);
  }

  function previousPage(): Promise<void> {
    if (pageIndex.value === 0) return Promise.resolve();
    return show(pageIndex.value - 1);
  }

  return {
    filters,
    items,
    pageIndex,
    loading,
    loaded,
    error,
    hasNext: computed(() => nextPageToken.value !== ""),
    hasPrevious: computed(() => pageIndex.value > 0),
    search,
    reload,
    nextPage,
    previousPage,
  };
}
