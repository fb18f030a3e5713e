import { onScopeDispose, type Ref, ref, watch } from "vue";
import { api } from "../api/instance.ts";

/**
 * An event's thumbnail as an object URL. The endpoint needs the bearer token, which an
 * <img src> cannot send, so the image is fetched as a blob; the URL is revoked when the
 * event changes or the component goes away, so pages of thumbnails do not leak memory.
 */
export function useThumbnail(eventId: Ref<string | null>): { url: Ref<string | null>; failed: Ref<boolean> } {
  const url = ref<string | null>(null);
  const failed = ref(false);
  let current = 0;

  const release = () => {
    if (url.value) URL.revokeObjectURL(url.value);
    url.value = null;
  };

  watch(
    eventId,
    async (id) => {
      const request = ++current;
      release();
      failed.value = false;
      if (id === null) return;
      try {
        const blob = await api.blob(`/v1/events/${encodeURIComponent(id)}/thumbnail`);
        if (request === current) url.value = URL.createObjectURL(blob);
      } catch {
        if (request === current) failed.value = true;
      }
    },
    { immediate: true },
  );
  onScopeDispose(() => {
    current += 1;
    release();
  });
  return { url, failed };
}
