import { defineStore } from "pinia";
import { ref } from "vue";
import { type ApiError, toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import type { AuditEvent, AuditEventPage } from "../api/types.ts";

const PAGE_SIZE = 50;

export const useAuditStore = defineStore("audit", () => {
  const events = ref<AuditEvent[]>([]);
  const nextPageToken = ref("");
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);

  async function fetchPage(pageToken: string): Promise<AuditEventPage | null> {
    loading.value = true;
    error.value = null;
    try {
      return await api.get<AuditEventPage>("/v1/audit-events", { pageSize: PAGE_SIZE, pageToken });
    } catch (e) {
      error.value = toApiError(e);
      return null;
    } finally {
      loading.value = false;
    }
  }

  /** The newest events, replacing what was shown. */
  async function load(): Promise<void> {
    const page = await fetchPage("");
    if (!page) return;
    events.value = page.auditEvents;
    nextPageToken.value = page.nextPageToken;
    loaded.value = true;
  }

  /** The next older page, appended (the log reads as one continuous list). */
  async function loadMore(): Promise<void> {
    if (!nextPageToken.value) return;
    const page = await fetchPage(nextPageToken.value);
    if (!page) return;
    events.value = [...events.value, ...page.auditEvents];
    nextPageToken.value = page.nextPageToken;
  }

  return { events, nextPageToken, loading, loaded, error, load, loadMore };
});
