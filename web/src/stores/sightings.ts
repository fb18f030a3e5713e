import { defineStore } from "pinia";
import { ref } from "vue";
import { toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import { EventStreamParser } from "../api/sse.ts";
import type { Sighting, SightingFilters, SightingPage } from "../api/types.ts";
import { useKeysetPages } from "../composables/useKeysetPages.ts";
import { mergeSighting, parseSighting, reconnectDelay } from "../format/sightings.ts";

export const SIGHTINGS_PAGE_SIZE = 25;
/** How long a row that just arrived or changed stays highlighted. */
export const HIGHLIGHT_MS = 4000;

/** The query GET /v1/sightings takes. */
export function sightingsQuery(f: SightingFilters): Record<string, string | undefined> {
  return {
    personId: f.personId || undefined,
    cameraId: f.cameraId || undefined,
    siteId: f.siteId || undefined,
    workerId: f.workerId || undefined,
    from: f.from || undefined,
    to: f.to || undefined,
    identified: f.identified === undefined ? undefined : String(f.identified),
  };
}

/**
 * - `connecting`, `live`: the feed is (being) opened / open;
 * - `reconnecting`: it dropped, the next try is scheduled (with backoff);
 * - `paused`: the user paused it, or the list is not on its first page;
 * - `unavailable`: the server has no feed (404) or refuses it.
 */
export type LiveState = "connecting" | "live" | "reconnecting" | "paused" | "unavailable";

export const useSightingsStore = defineStore("sightings", () => {
  const { items: sightings, ...pages } = useKeysetPages<Sighting, SightingFilters>(
    async (filters, pageToken) => {
      const page = await api.get<SightingPage>("/v1/sightings", {
        ...sightingsQuery(filters),
        pageSize: SIGHTINGS_PAGE_SIZE,
        pageToken,
      });
      return { items: page.sightings, nextPageToken: page.nextPageToken };
    },
  );
  const { filters, pageIndex, reload } = pages;

  // ---- live feed ----
  const live = ref<LiveState>("paused");
  const liveError = ref<string | null>(null);
  /** Rows that arrived or changed in the last few seconds: id → until when. */
  const highlighted = ref<ReadonlyMap<string, number>>(new Map());
  const startedListeners = new Set<(s: Sighting) => void>();
  let controller: AbortController | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let wanted = false;

  function highlight(id: string): void {
    const next = new Map(highlighted.value);
    next.set(id, Date.now() + HIGHLIGHT_MS);
    highlighted.value = next;
    setTimeout(() => {
      const later = new Map(highlighted.value);
      if ((later.get(id) ?? 0) <= Date.now()) later.delete(id);
      highlighted.value = later;
    }, HIGHLIGHT_MS + 50);
  }

  /** One frame of the feed folded into the list (only the first page takes live rows). */
  function receive(kind: string, sighting: Sighting): void {
    if (pageIndex.value === 0) {
      sightings.value = mergeSighting(sightings.value, sighting, filters.value);
      if (sightings.value.some((s) => s.id === sighting.id)) highlight(sighting.id);
    }
    if (kind === "sighting.started") for (const listener of startedListeners) listener(sighting);
  }

  async function connect(attempt: number): Promise<void> {
    controller = new AbortController();
    const { signal } = controller;
    live.value = attempt === 0 ? "connecting" : "reconnecting";
    try {
      const res = await api.stream("/v1/sightings/stream", signal);
      if (!res.body) throw new Error("the feed has no body");
      live.value = "live";
      liveError.value = null;
      // Whatever happened while disconnected is on the server: catch up once.
      if (attempt > 0 && pageIndex.value === 0) void reload();
      attempt = 0;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new EventStreamParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const frame of parser.push(value)) {
          if (frame.event !== "sighting.started" && frame.event !== "sighting.updated") continue;
          const sighting = parseSighting(frame.data);
          if (sighting) receive(frame.event, sighting);
        }
      }
      throw new Error("the server ended the feed");
    } catch (e) {
      if (signal.aborted || !wanted) return;
      const error = toApiError(e);
      // No feed on this server, or not for this caller: retrying will not change that.
      if (error.status === 404 || error.status === 403 || error.status === 401) {
        live.value = "unavailable";
        liveError.value = error.detail;
        return;
      }
      liveError.value = error.detail;
      live.value = "reconnecting";
      retryTimer = setTimeout(() => {
        retryTimer = null;
        if (wanted) void connect(attempt + 1);
      }, reconnectDelay(attempt));
    }
  }

  function startLive(): void {
    wanted = true;
    if (controller && !controller.signal.aborted) return;
    void connect(0);
  }

  function stopLive(state: LiveState = "paused"): void {
    wanted = false;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    controller?.abort();
    controller = null;
    live.value = state;
  }

  /** Called for each new sighting from the feed (the page shows watchlist toasts). */
  function onStarted(listener: (s: Sighting) => void): () => void {
    startedListeners.add(listener);
    return () => startedListeners.delete(listener);
  }

  /** A sighting labelled from the list (an unknown face enrolled to a person). */
  function replace(updated: Sighting): void {
    sightings.value = sightings.value.map((s) => (s.id === updated.id ? updated : s));
  }

  return {
    sightings,
    ...pages,
    live,
    liveError,
    highlighted,
    startLive,
    stopLive,
    onStarted,
    receive,
    replace,
  };
});
