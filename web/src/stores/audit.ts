import { defineStore } from "pinia";
import { ref } from "vue";
import { api } from "../api/instance.ts";
import type { AuditEvent, AuditEventPage } from "../api/types.ts";
import { useResource } from "../composables/useResource.ts";

const PAGE_SIZE = 50;

export const useAuditStore = defineStore("audit", () => {
  const events = ref<AuditEvent[]>([]);
  const nextPageToken = ref("");
  const { loading, loaded, error, load: request } = useResource();

  const fetchPage = (pageToken: string) => () =>
    api.get<AuditEventPage>("/v1/audit-events", { pageSize: PAGE_SIZE, pageToken });

  /** The newest events, replacing what was shown. */
  async function load(): Promise<void> {
    await request(fetchPage(""), (page) => {
      events.value = page.auditEvents;
      nextPageToken.value = page.nextPageToken;
    });
  }

  /** The next older page, appended (the log reads as one continuous list). */
  async function loadMore(): Promise<void> {
    if (!nextPageToken.value) return;
    await request(fetchPage(nextPageToken.value), (page) => {
      events.value = [...events.value, ...page.auditEvents];
      nextPageToken.value = page.nextPageToken;
    });
  }

  return { events, nextPageToken, loading, loaded, error, load, loadMore };
});
