import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { ApiKey } from "../api/types.ts";
import { createFakeFetch, type Handler, json, problem } from "../testing/fakeFetch.ts";
import { statusAt, useApiKeysStore } from "./apiKeys.ts";

const key = (id: string, over: Partial<ApiKey> = {}): ApiKey => ({
  id,
  name: `Worker ${id}`,
  role: "worker",
  prefix: `fr_${id}`,
  active: true,
  status: "active",
  expiresAt: null,
  expiresSoon: false,
  lastUsedAt: null,
  lastUsedBy: null,
  rotatedAt: null,
  previousSecretExpiresAt: null,
  allowedSiteIds: [],
  allowedWorkerIds: [],
  allowedCidrs: [],
  stale: false,
  createdAt: "2025-01-01T00:00:00Z",
  createdBy: "u-1",
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

describe("useApiKeysStore", () => {
  it("loads every page of keys", async () => {
    const { requests } = serve({
      "GET /v1/api-keys": (req) =>
        req.query.get("pageToken")
          ? json({ apiKeys: [key("b")], nextPageToken: "" })
          : json({ apiKeys: [key("a")], nextPageToken: "p2" }),
    });
    const store = useApiKeysStore();
    await store.load();
    expect(store.keys.map((k) => k.id)).toEqual(["a", "b"]);
    expect(store.loaded).toBe(true);
    expect(requests.map((r) => r.query.get("pageToken") ?? "")).toEqual(["", "p2"]);
  });

  it("keeps a failed load's problem detail for the page to show", async () => {
    serve({ "GET /v1/api-keys": () => problem(403, "permission_denied", "Viewers cannot list keys here.") });
    const store = useApiKeysStore();
    await store.load();
    expect(store.error?.detail).toBe("Viewers cannot list keys here.");
    expect(store.loading).toBe(false);
  });

  it("adds a created key to the list and returns the plaintext without keeping it", async () => {
    const { requests } = serve({
      "POST /v1/api-keys": () => json({ apiKey: key("new"), key: "fr_secret_plaintext" }, 201),
    });
    const store = useApiKeysStore();
    const created = await store.create({ name: "Production Worker 01", role: "worker" });
    expect(created.key).toBe("fr_secret_plaintext");
    expect(store.keys.map((k) => k.id)).toEqual(["new"]);
    expect(JSON.stringify(store.$state)).not.toContain("fr_secret_plaintext");
    expect(requests[0]!.body).toEqual({ name: "Production Worker 01", role: "worker" });
  });

  it("sends PATCH with active:false and shows the server's answer", async () => {
    const { requests } = serve({
      "GET /v1/api-keys": () => json({ apiKeys: [key("a")], nextPageToken: "" }),
      "PATCH /v1/api-keys/a": () => json({ apiKey: key("a", { active: false, status: "inactive" }) }),
    });
    const store = useApiKeysStore();
    await store.load();
    await store.setActive("a", false);
    expect(requests[1]!.body).toEqual({ active: false });
    expect(store.keys[0]!.status).toBe("inactive");
  });

  it("clears an expiration with expiresAt: null", async () => {
    const { requests } = serve({
      "PATCH /v1/api-keys/a": () => json({ apiKey: key("a") }),
    });
    await useApiKeysStore().update("a", { expiresAt: null });
    expect(requests[0]!.body).toEqual({ expiresAt: null });
  });

  it("removes a deleted key, also when it was already gone (404)", async () => {
    serve({
      "GET /v1/api-keys": () => json({ apiKeys: [key("a"), key("b")], nextPageToken: "" }),
      "DELETE /v1/api-keys/a": () => new Response(null, { status: 204 }),
      "DELETE /v1/api-keys/b": () => problem(404, "not_found", "No such key"),
    });
    const store = useApiKeysStore();
    await store.load();
    await store.remove("a");
    await store.remove("b");
    expect(store.keys).toEqual([]);
  });

  it("passes a refused mutation's error to the caller and changes nothing", async () => {
    serve({
      "GET /v1/api-keys": () => json({ apiKeys: [key("a")], nextPageToken: "" }),
      "PATCH /v1/api-keys/a": () => problem(400, "invalid_argument", "The expiration must be in the future."),
    });
    const store = useApiKeysStore();
    await store.load();
    await expect(store.update("a", { expiresAt: "2000-01-01T00:00:00Z" })).rejects.toMatchObject({
      status: 400,
      detail: "The expiration must be in the future.",
    });
    expect(store.keys[0]!.expiresAt).toBeNull();
  });
});

describe("statusAt", () => {
  it("turns an active key whose expiration has passed into expired", () => {
    const k = key("a", { expiresAt: "2025-06-01T00:00:00Z" });
    expect(statusAt(k, Date.parse("2025-05-31T23:59:59Z"))).toBe("active");
    expect(statusAt(k, Date.parse("2025-06-01T00:00:00Z"))).toBe("expired");
    expect(statusAt({ ...k, active: false, status: "inactive" }, Date.parse("2026-01-01T00:00:00Z"))).toBe(
      "inactive",
    );
  });
});
