import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { Sighting } from "../api/types.ts";
import { createFakeFetch, json, problem } from "../testing/fakeFetch.ts";
import { useSightingsStore } from "./sightings.ts";

const sighting = (id: string, lastSeenAt: string, extra: Partial<Sighting> = {}): Sighting => ({
  id,
  personId: null,
  personName: null,
  watchlist: false,
  trackId: 1,
  workerId: "w1",
  siteId: "site-a",
  cameraId: "cam-1",
  model: "dlib/resnet-v1-128",
  firstSeenAt: lastSeenAt,
  lastSeenAt,
  observations: 1,
  bestSimilarity: null,
  bestEventId: `e-${id}`,
  bestEventHasThumbnail: true,
  ...extra,
});

/** An open text/event-stream response the test writes frames into. */
function eventStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

const frame = (event: string, s: Sighting) => `event: ${event}\nid: ${s.id}\ndata: ${JSON.stringify(s)}\n\n`;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});
afterEach(() => {
  useSightingsStore().stopLive();
  vi.useRealTimers();
});

describe("useSightingsStore's live feed", () => {
  it("folds started and updated sightings into the first page and tells listeners of new ones", async () => {
    const feed = eventStream();
    const fake = createFakeFetch({
      "GET /v1/sightings": () =>
        json({ sightings: [sighting("a", "2026-12-06T10:00:00Z")], nextPageToken: "" }),
      "GET /v1/sightings/stream": () => feed.response,
    });
    vi.stubGlobal("fetch", fake.fetch);
    const store = useSightingsStore();
    const started: string[] = [];
    store.onStarted((s) => started.push(s.id));

    await store.search({ cameraId: "cam-1" });
    store.startLive();
    await settle();
    expect(store.live).toBe("live");
    expect(fake.requests.at(-1)!.headers.get("accept")).toBe("text/event-stream");

    feed.send(": keep-alive\n\n");
    feed.send(frame("sighting.started", sighting("b", "2026-12-06T10:01:00Z")));
    feed.send(
      frame("sighting.started", sighting("elsewhere", "2026-12-06T10:01:30Z", { cameraId: "cam-9" })),
    );
    feed.send(frame("sighting.updated", sighting("a", "2026-12-06T10:02:00Z", { observations: 5 })));
    await settle();

    expect(store.sightings.map((s) => [s.id, s.observations])).toEqual([
      ["a", 5],
      ["b", 1],
    ]);
    expect(store.highlighted.has("a")).toBe(true);
    expect(started).toEqual(["b", "elsewhere"]);
  });

  it("reconnects with backoff when the feed drops, and catches up with a reload", async () => {
    vi.useFakeTimers();
    const feeds = [eventStream(), eventStream()];
    let opened = 0;
    let listed = 0;
    vi.stubGlobal(
      "fetch",
      createFakeFetch({
        "GET /v1/sightings": () => {
          listed += 1;
          return json({ sightings: [], nextPageToken: "" });
        },
        "GET /v1/sightings/stream": () => feeds[opened++]!.response,
      }).fetch,
    );
    const store = useSightingsStore();
    await store.search({});
    store.startLive();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.live).toBe("live");

    feeds[0]!.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.live).toBe("reconnecting");
    expect(store.liveError).toMatch(/ended the feed/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(opened).toBe(2);
    expect(store.live).toBe("live");
    expect(listed).toBe(2);
  });

  it("says the feed is unavailable on a server without it, and pausing stops it", async () => {
    vi.stubGlobal(
      "fetch",
      createFakeFetch({
        "GET /v1/sightings": () => json({ sightings: [], nextPageToken: "" }),
        "GET /v1/sightings/stream": () => problem(404, "not_found", "no such route"),
      }).fetch,
    );
    const store = useSightingsStore();
    store.startLive();
    await settle();
    expect(store.live).toBe("unavailable");
    store.stopLive();
    expect(store.live).toBe("paused");
  });
});
