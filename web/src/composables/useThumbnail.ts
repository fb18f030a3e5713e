import { onScopeDispose, type Ref, ref, watch } from "vue";
import { api } from "../api/instance.ts";

export const eventThumbnailPath = (eventId: string) => `/v1/events/${encodeURIComponent(eventId)}/thumbnail`;

/**
 * An image of the API (an event's or an enrolled face's thumbnail) as an object URL. The endpoint
 * needs the bearer token, which an <img src> cannot send, so the image is fetched as a blob; the
 * URL is revoked when the path changes or the component goes away, so pages of thumbnails do not
 * leak memory.
 */
export function useThumbnail(path: Ref<string | null>): { url: Ref<string | null>; failed: Ref<boolean> } {
  const url = ref<string | null>(null);
  const failed = ref(false);
  let current = 0;

  const release = () => {
    if (url.value) URL.revokeObjectURL(url.value);
    url.value = null;
  };

  watch(
    path,
    async (target) => {
      const request = ++current;
      release();
      failed.value = false;
      if (target === null) return;
      try {
        const blob = await api.blob(target);
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
