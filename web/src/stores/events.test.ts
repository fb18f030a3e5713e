import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { FaceEventPage } from "../api/types.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { faceEvent } from "../testing/fixtures.ts";
import { useEventsStore } from "./events.ts";

const event = (id: string) => faceEvent(id, { trackId: "t1" });

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("useEventsStore", () => {
  it("pages forward with the server's token and back with a remembered one, keeping the filters", async () => {
    const pages: Record<string, FaceEventPage> = {
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
