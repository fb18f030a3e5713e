import { defineStore } from "pinia";
import { ref } from "vue";
import { toApiError } from "../api/errors.ts";
import type { components, operations } from "../api/generated/rest-api.ts";
import { api } from "../api/instance.ts";
import { useResource } from "../composables/useResource.ts";

type Schemas = components["schemas"];
export type Webhook = Schemas["Webhook"];
export type WebhookEventType = Webhook["eventTypes"][number];
export type CreatedWebhook = Schemas["CreatedWebhook"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type CreateWebhookInput = operations["createWebhook"]["requestBody"]["content"]["application/json"];

/** The event types a webhook can receive, with what each means, in the order the form lists them. */
export const WEBHOOK_EVENT_TYPES: readonly { value: WebhookEventType; label: string; description: string }[] =
  [
    {
      value: "sighting.started",
      label: "Sighting started",
      description: "A person (or an unknown face) is first seen at a camera.",
    },
    {
      value: "api_key.expiring",
      label: "API key expiring",
      description: "An API key expires within 7 days (once per key and date).",
    },
  ];

const hookPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;
/** Deliveries shown per page in the deliveries view. */
export const DELIVERIES_PAGE_SIZE = 20;

export const useWebhooksStore = defineStore("webhooks", () => {
  const webhooks = ref<Webhook[]>([]);
  const { loading, loaded, error, load: request } = useResource();

  async function load(): Promise<void> {
    await request(
      () => api.get<{ webhooks: Webhook[] }>("/v1/webhooks"),
      (answer) => {
        webhooks.value = answer.webhooks;
      },
    );
  }

  /** The signing secret in the result is handed to the caller and deliberately not kept here. */
  async function create(input: CreateWebhookInput): Promise<CreatedWebhook> {
    const created = await api.post<CreatedWebhook>("/v1/webhooks", input);
    webhooks.value = [created.webhook, ...webhooks.value];
    return created;
  }

  async function remove(id: string): Promise<void> {
    try {
      await api.delete(hookPath(id));
    } catch (e) {
      // Already gone (another admin deleted it): the outcome the user asked for.
      if (toApiError(e).status !== 404) throw e;
    }
    webhooks.value = webhooks.value.filter((w) => w.id !== id);
  }

  /** One page of a webhook's deliveries, newest first; not kept in the store (the view asks each time). */
  async function deliveries(
    id: string,
    pageToken = "",
  ): Promise<{ deliveries: WebhookDelivery[]; nextPageToken: string }> {
    return api.get(`${hookPath(id)}/deliveries`, { pageSize: DELIVERIES_PAGE_SIZE, pageToken });
  }

  return { webhooks, loading, loaded, error, load, create, remove, deliveries };
});
