import { type Ref, ref } from "vue";
import { type ApiError, toApiError } from "../api/errors.ts";

/** What a page needs to know about a store's data: in flight, arrived at least once, or failed. */
export interface ResourceState {
  readonly loading: boolean;
  readonly loaded: boolean;
  readonly error: ApiError | null;
}

/**
 * The loading / loaded / error bookkeeping every store that reads from the API shares.
 *
 * `load(request, apply)` runs one request and hands its answer to `apply`. A failure lands in
 * `error` and leaves the data as it was, so the last good answer stays on screen beside the banner;
 * the error is cleared only by the next success (a retry keeps the banner up, with its spinner,
 * until it works). When loads overlap, only the latest one's answer or failure counts: a slow
 * answer to an earlier filter never replaces a newer one.
 */
export function useResource(): {
  loading: Ref<boolean>;
  loaded: Ref<boolean>;
  error: Ref<ApiError | null>;
  load: <T>(request: () => Promise<T>, apply: (answer: T) => void) => Promise<boolean>;
} {
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  let latest = 0;

  async function load<T>(request: () => Promise<T>, apply: (answer: T) => void): Promise<boolean> {
    const id = ++latest;
    loading.value = true;
    try {
      const answer = await request();
      if (id !== latest) return false;
      apply(answer);
      error.value = null;
      loaded.value = true;
      return true;
    } catch (e) {
      if (id === latest) error.value = toApiError(e);
      return false;
    } finally {
      if (id === latest) loading.value = false;
    }
  }

  return { loading, loaded, error, load };
}
