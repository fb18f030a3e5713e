import { defineStore } from "pinia";
import { toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import type { CreatePersonInput, Person, PersonFilters, PersonPage } from "../api/types.ts";
import { useKeysetPages } from "../composables/useKeysetPages.ts";

export const PEOPLE_PAGE_SIZE = 25;

export const personPath = (id: string) => `/v1/people/${encodeURIComponent(id)}`;

/** The query the list sends: empty filters are left out, the watchlist flag as "true"/"false". */
export function peopleQuery(filters: PersonFilters): Record<string, string | undefined> {
  return {
    namePrefix: filters.namePrefix?.trim() || undefined,
    label: filters.label?.trim() || undefined,
    watchlist: filters.watchlist === undefined ? undefined : String(filters.watchlist),
  };
}

/** The tenant's people, a page at a time (keyset paging: forward by token, back by remembered tokens). */
export const usePeopleStore = defineStore("people", () => {
  const { items: people, ...pages } = useKeysetPages<Person, PersonFilters>(async (filters, pageToken) => {
    const page = await api.get<PersonPage>("/v1/people", {
      ...peopleQuery(filters),
      pageSize: PEOPLE_PAGE_SIZE,
      pageToken,
    });
    return { items: page.people, nextPageToken: page.nextPageToken };
  });
  const { pageIndex } = pages;

  async function create(input: CreatePersonInput): Promise<Person> {
    const { person } = await api.post<{ person: Person }>("/v1/people", input);
    // Newest first: the new person leads the first page.
    if (pageIndex.value === 0) people.value = [person, ...people.value];
    return person;
  }

  /** Keeps the list in step with a change made elsewhere (the detail page). */
  function replace(updated: Person): void {
    people.value = people.value.map((p) => (p.id === updated.id ? updated : p));
  }

  /**
   * Deletes the person with their faces, crops and embeddings; `purgeSightings` also deletes the
   * observations matched to them (a data-subject erasure).
   */
  async function remove(id: string, options: { purgeSightings: boolean }): Promise<void> {
    try {
      await api.delete(personPath(id), options.purgeSightings ? { purgeSightings: "true" } : undefined);
    } catch (e) {
      // Already gone (another admin deleted it): the outcome asked for.
      if (toApiError(e).status !== 404) throw e;
    }
    people.value = people.value.filter((p) => p.id !== id);
  }

  return { people, ...pages, create, replace, remove };
});
