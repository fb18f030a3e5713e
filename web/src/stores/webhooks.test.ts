import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import { createFakeFetch, type Handler, json, problem } from "../testing/fakeFetch.ts";
import { useWebhooksStore, type Webhook, type WebhookDelivery } from "./webhooks.ts";

const hook = (id: string, over: Partial<Webhook> = {}): Webhook => ({
  id,
  url: `https://hooks.example.com/${id}`,
  description: "",
  eventTypes: ["sighting.started"],
  watchlistOnly: false,
  createdAt: "2026-01-05T09:00:00Z",
  createdBy: "admin@acme.test",
  ...over,
});

const delivery = (id: string, over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id,
  webhookId: "w1",
  eventId: `evt_${id}`,
  eventType: "sighting.started",
  status: "succeeded",
  attempts: 1,
  createdAt: "2026-01-05T09:10:00Z",
  lastAttemptAt: "2026-01-05T09:10:01Z",
  lastStatusCode: 200,
  lastResponseExcerpt: "ok",
  nextAttemptAt: null,
  ...over,
});

function serve(routes: Record<string, Handler>) {
  const fake = createFakeFetch(routes);
  vi.stubGlobal("fetch", fake.fetch);
  return fake;
}

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("useWebhooksStore", () => {
  it("loads the tenant's webhooks and keeps a failure beside the last good list", async () => {
    let fail = false;
    serve({
      "GET /v1/webhooks": () =>
        fail ? problem(503, "service_unavailable", "retry") : json({ webhooks: [hook("a")] }),
    });
    const store = useWebhooksStore();
    await store.load();
    expect(store.webhooks.map((w) => w.id)).toEqual(["a"]);
    expect(store.loaded).toBe(true);
    fail = true;
    await store.load();
    expect(store.error?.code).toBe("service_unavailable");
    expect(store.webhooks.map((w) => w.id)).toEqual(["a"]);
  });

  it("creates a webhook, puts it first and hands the secret to the caller without keeping it", async () => {
    const { requests } = serve({
      "GET /v1/webhooks": () => json({ webhooks: [hook("a")] }),
      "POST /v1/webhooks": () => json({ webhook: hook("b"), secret: "whsec_s3cret" }, 201),
    });
    const store = useWebhooksStore();
    await store.load();
    const created = await store.create({
      url: "https://hooks.example.com/b",
      eventTypes: ["sighting.started"],
    });
    expect(created.secret).toBe("whsec_s3cret");
    expect(requests.at(-1)?.body).toEqual({
      url: "https://hooks.example.com/b",
      eventTypes: ["sighting.started"],
    });
    expect(store.webhooks.map((w) => w.id)).toEqual(["b", "a"]);
    expect(JSON.stringify(store.$state)).not.toContain("whsec_s3cret");
  });

  it("passes a refused URL on as the problem the server gave", async () => {
    serve({
      "POST /v1/webhooks": () => problem(422, "webhook_url_not_allowed", "the host resolves to 10.0.0.5"),
    });
    const store = useWebhooksStore();
    await expect(
      store.create({ url: "https://intranet.example/", eventTypes: ["api_key.expiring"] }),
    ).rejects.toMatchObject({ status: 422, code: "webhook_url_not_allowed" });
    expect(store.webhooks).toEqual([]);
  });

  it("removes a webhook, also when another admin already did", async () => {
    serve({
      "GET /v1/webhooks": () => json({ webhooks: [hook("a"), hook("b")] }),
      "DELETE /v1/webhooks/a": () => new Response(null, { status: 204 }),
      "DELETE /v1/webhooks/b": () => problem(404, "not_found", "no such webhook"),
    });
    const store = useWebhooksStore();
    await store.load();
    await store.remove("a");
    await store.remove("b");
    expect(store.webhooks).toEqual([]);
  });

  it("reads deliveries a page at a time with the page token", async () => {
    const { requests } = serve({
      "GET /v1/webhooks/w1/deliveries": (req) =>
        req.query.get("pageToken")
          ? json({ deliveries: [delivery("2")], nextPageToken: "" })
          : json({ deliveries: [delivery("1")], nextPageToken: "p2" }),
    });
    const store = useWebhooksStore();
    const first = await store.deliveries("w1");
    expect(first.nextPageToken).toBe("p2");
    const second = await store.deliveries("w1", first.nextPageToken);
    expect(second.deliveries.map((d) => d.id)).toEqual(["2"]);
    expect(requests.map((r) => r.query.get("pageToken") ?? "")).toEqual(["", "p2"]);
  });
});
