import { defineStore } from "pinia";
import { ref } from "vue";
import { toApiError } from "../api/errors.ts";
import { api } from "../api/instance.ts";
import type {
  ApiKey,
  ApiKeyPage,
  ApiKeyStatus,
  ApiKeyUsageDay,
  CreateApiKeyInput,
  CreatedApiKey,
  UpdateApiKeyInput,
} from "../api/types.ts";
import { useResource } from "../composables/useResource.ts";

const keyPath = (id: string) => `/v1/api-keys/${encodeURIComponent(id)}`;

/** The server's status, corrected for keys that expired while the page was open. */
export function statusAt(key: ApiKey, now: number): ApiKeyStatus {
  if (key.status === "active" && key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return "expired";
  return key.status;
}

export const useApiKeysStore = defineStore("apiKeys", () => {
  const keys = ref<ApiKey[]>([]);
  const { loading, loaded, error, load: request } = useResource();

  /**
   * Every key of the tenant, all pages: a tenant has tens of keys, not thousands, and
   * having them all lets the table sort and filter without further round trips.
   */
  async function load(): Promise<void> {
    await request(
      async () => {
        const all: ApiKey[] = [];
        let pageToken = "";
        do {
          const page = await api.get<ApiKeyPage>("/v1/api-keys", { pageSize: 100, pageToken });
          all.push(...page.apiKeys);
          pageToken = page.nextPageToken;
        } while (pageToken);
        return all;
      },
      (all) => {
        keys.value = all;
      },
    );
  }

  function replace(updated: ApiKey): void {
    keys.value = keys.value.map((k) => (k.id === updated.id ? updated : k));
  }

  /** The plaintext in the result is handed to the caller and deliberately not kept here. */
  async function create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const created = await api.post<CreatedApiKey>("/v1/api-keys", input);
    keys.value = [created.apiKey, ...keys.value];
    return created;
  }

  async function update(id: string, patch: UpdateApiKeyInput): Promise<ApiKey> {
    const { apiKey } = await api.patch<{ apiKey: ApiKey }>(keyPath(id), patch);
    replace(apiKey);
    return apiKey;
  }

  const setActive = (id: string, active: boolean) => update(id, { active });

  /** A new secret for the key; the old one works for `gracePeriodSeconds` more. The plaintext is the caller's. */
  async function rotate(id: string, gracePeriodSeconds: number): Promise<CreatedApiKey> {
    const rotated = await api.post<CreatedApiKey>(`${keyPath(id)}/rotate`, { gracePeriodSeconds });
    replace(rotated.apiKey);
    return rotated;
  }

  /** The key's use per day, oldest first; not kept in the store (a detail view asks each time). */
  async function usage(id: string, days = 30): Promise<ApiKeyUsageDay[]> {
    return (await api.get<{ days: ApiKeyUsageDay[] }>(`${keyPath(id)}/usage`, { days })).days;
  }

  async function remove(id: string): Promise<void> {
    try {
      await api.delete(keyPath(id));
    } catch (e) {
      // Already gone (another admin deleted it): the outcome the user asked for.
      if (toApiError(e).status !== 404) throw e;
    }
    keys.value = keys.value.filter((k) => k.id !== id);
  }

  return { keys, loading, loaded, error, load, create, update, setActive, rotate, usage, remove };
});
