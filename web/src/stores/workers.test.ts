import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { Worker } from "../api/types.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { useWorkersStore } from "./workers.ts";

const worker: Worker = {
  workerId: "worker-001",
  keyId: "k1",
  keyName: "Production Worker 01",
  siteId: "s-1",
  cameraId: "cam-1",
  remoteAddress: "10.0.0.5",
  connectedSince: "2025-01-01T00:00:00Z",
  lastBatchAt: "2025-01-01T00:10:00Z",
  lastSeenAt: "2025-01-01T00:10:00Z",
  observationsPerMinute: 42,
  streamCount: 1,
  connected: true,
  disconnectReason: null,
};

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("useWorkersStore", () => {
  it("keeps the last known workers on screen when a refresh fails", async () => {
    let up = true;
    vi.stubGlobal(
      "fetch",
      createFakeFetch({
        "GET /v1/workers": () => {
          if (up) return json({ workers: [worker] });
          throw new TypeError("Failed to fetch");
        },
      }).fetch,
    );
    const store = useWorkersStore();
    await store.refresh();
    up = false;
    await store.refresh();
    expect(store.workers).toEqual([worker]);
    expect(store.error?.code).toBe("network_error");
    up = true;
    await store.refresh();
    expect(store.error).toBeNull();
  });
});
