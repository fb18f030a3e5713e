import { defineStore } from "pinia";
import { ref } from "vue";
import { api } from "../api/instance.ts";
import type { Worker } from "../api/types.ts";
import { useResource } from "../composables/useResource.ts";

export const useWorkersStore = defineStore("workers", () => {
  const workers = ref<Worker[]>([]);
  const { loading, loaded, error, load } = useResource();
  const updatedAt = ref<number | null>(null);

  /** Polled: a failed refresh keeps the last known list on screen next to the error. */
  async function refresh(): Promise<void> {
    await load(
      () => api.get<{ workers: Worker[] }>("/v1/workers"),
      (page) => {
        workers.value = page.workers;
        updatedAt.value = Date.now();
      },
    );
  }

  return { workers, loading, loaded, error, updatedAt, refresh };
});
