import { defineStore } from "pinia";
import { ref } from "vue";
import { type ApiError, toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import type { Worker } from "../api/types.ts";

export const useWorkersStore = defineStore("workers", () => {
  const workers = ref<Worker[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  const updatedAt = ref<number | null>(null);

  /** Polled: a failed refresh keeps the last known list on screen next to the error. */
  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const page = await api.get<{ workers: Worker[] }>("/v1/workers");
      workers.value = page.workers;
      error.value = null;
      loaded.value = true;
      updatedAt.value = Date.now();
    } catch (e) {
      error.value = toApiError(e);
    } finally {
      loading.value = false;
    }
  }

  return { workers, loading, loaded, error, updatedAt, refresh };
});
