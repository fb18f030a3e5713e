import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { FaceEvent } from "../api/types.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { useEventsStore } from "./events.ts";

const event = (id: string): FaceEvent => ({
  id,
  batchId: "b",
  workerId: "worker-001",
  siteId: "s-1",
  cameraId: "cam-1",
  capturedAt: "2025-01-01T00:00:00Z",
  bbox: { x: 1, y: 2, width: 30, height: 40 },
  detScore: 0.9,
  quality: 0.8,
  model: "insightface/w600k_r50",
  embeddingDim: 512,
  trackId: "t1",
  thumbnailUrl: `/v1/events/${id}/thumbnail`,
});

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("useEventsStore", () => {
  it("pages forward with the server's token and back with a remembered one, keeping the filters", async () => {
    const pages: Record<string, { events: FaceEvent[]; nextPageToken: string }> = {
      "": { events: [event("1")], nextPageToken: "p2" },
      p2: { events: [event("2")], nextPageToken: "p3" },
      p3: { events: [event("3")], nextPageToken: "" },
    };
    const fake = createFakeFetch({
      "GET /v1/events": (req) => json(pages[req.query.get("pageToken") ?? ""]),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const store = useEventsStore();

    await store.search({ siteId: "s-1", from: "2025-01-01T00:00:00.000Z", to: "2025-01-02T00:00:00.000Z" });
    await store.nextPage();
    await store.nextPage();
    expect(store.events[0]!.id).toBe("3");
    expect(store.hasNext).toBe(false);
    await store.previousPage();
    expect(store.events[0]!.id).toBe("2");
    expect(store.pageIndex).toBe(1);
    expect(store.hasPrevious).toBe(true);

    const last = fake.requests.at(-1)!.query;
    expect(last.get("siteId")).toBe("s-1");
    expect(last.get("from")).toBe("2025-01-01T00:00:00.000Z");
    expect(last.get("pageToken")).toBe("p2");
    expect(last.get("pageSize")).toBe("25");
  });

  it("reports a missing endpoint as a 404 error the page can explain", async () => {
    vi.stubGlobal("fetch", createFakeFetch({}).fetch);
    const store = useEventsStore();
    await store.search({});
    expect(store.error?.status).toBe(404);
    expect(store.events).toEqual([]);
  });
});
