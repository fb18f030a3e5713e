/**
 * GET /v1/sightings and the SSE feed GET /v1/sightings/stream against the real stack, fed by real
 * worker streams: observations become sightings, a replayed batch counts once, frames arrive live,
 * bad queries are precise 400s, tenants see only their own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  faceThumbnail,
  ingestClient,
  keyToken,
  makeBatch,
  makeObservation,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";

type Sighting = {
  id: string;
  personId: string | null;
  personName: string | null;
  watchlist: boolean;
  trackId: number;
  workerId: string;
  siteId: string;
  cameraId: string;
  model: string;
  firstSeenAt: string;
  lastSeenAt: string;
  observations: number;
  bestSimilarity: number | null;
  bestEventId: string;
  bestEventHasThumbnail: boolean;
};
type SightingsPage = { sightings: Sighting[]; nextPageToken: string };
type Problem = { status: number; code: string; errors?: { field: string }[] };

/** Observations of one track, `seconds` after `start`. */
const track = (trackId: number, start: number, seconds: number[], opts: { quality?: number[] } = {}) =>
  seconds.map((s, i) =>
    makeObservation({
      capturedAt: new Date(start + s * 1000),
      frameSeq: s + 1,
      trackId,
      quality: opts.quality?.[i] ?? 0.5,
      thumbnailJpeg: faceThumbnail(),
    }),
  );

/** An SSE client like the dashboard's: fetch with a Bearer header, frames parsed as they arrive. */
class FeedReader {
  readonly frames: { event: string; id: string; data: Sighting }[] = [];
  readonly comments: string[] = [];
  readonly response: Response;
  readonly #abort: AbortController;
  readonly done: Promise<void>;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    this.done = this.#read();
  }

  static async open(url: string, token: string): Promise<FeedReader> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    return new FeedReader(response, abort);
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      const reader = this.response.body!.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffered += decoder.decode(read.value, { stream: true });
        for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split("\n")
              .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
          );
          if (fields[""] !== undefined) this.comments.push(fields[""]);
          else this.frames.push({ event: fields.event!, id: fields.id!, data: JSON.parse(fields.data!) });
        }
      }
    } catch {
      // aborted by close()
    }
  }

  close(): void {
    this.#abort.abort();
  }
}

describe("REST /v1/sightings", () => {
  let t: TestStack;
  let client: IngestServiceClient;
  let admin: string;
  let viewer: string;
  let worker: string;
  let adminB: string;
  let stream: WorkerStream;
  const start = Date.now() - 120_000;

  before(async () => {
    t = await startTestStack();
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    admin = await t.login();
    viewer = (await keyToken(t, admin, { role: "viewer" })).token;
    worker = (await keyToken(t, admin)).token;
    adminB = await t.createTenant("t-sightings-b");
    stream = new WorkerStream(client, worker);
  });
  after(async () => {
    stream.cancel();
    client.close();
    await t.stop();
  });

  const list = (query = "", token = viewer) =>
    t.api<SightingsPage>("GET", `/v1/sightings${query}`, { token });

  it("lists the sightings of streamed observations, and a replayed batch counts once", async () => {
    const first = makeBatch({
      workerId: "w-1",
      siteId: "site-1",
      cameraId: "cam-1",
      observations: track(5, start, [0, 1, 2], { quality: [0.3, 0.9, 0.6] }),
    });
    const second = makeBatch({
      workerId: "w-1",
      siteId: "site-1",
      cameraId: "cam-1",
      observations: track(5, start, [10]),
    });
    const other = makeBatch({
      workerId: "w-2",
      siteId: "site-2",
      cameraId: "cam-2",
      observations: track(6, start, [5]),
    });
    const acks = await stream.exchange(first, second, other);
    assert.deepEqual(
      acks.map((a) => a.accepted),
      [3, 1, 1],
    );
    // Listed as soon as the ack arrives: the ingest that stored them pages its open sightings from memory.
    const page = await list();
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.sightings.length, 2);
    const [atCam1, atCam2] = page.body.sightings;
    assert.deepEqual(
      { ...atCam1, id: undefined, bestEventId: undefined },
      {
        id: undefined,
        personId: null,
        personName: null,
        watchlist: false,
        trackId: 5,
        workerId: "w-1",
        siteId: "site-1",
        cameraId: "cam-1",
        model: "insightface/w600k_r50",
        firstSeenAt: new Date(start).toISOString(),
        lastSeenAt: new Date(start + 10_000).toISOString(),
        observations: 4,
        bestSimilarity: null,
        bestEventId: undefined,
        bestEventHasThumbnail: true,
      },
    );
    assert.equal(atCam2?.cameraId, "cam-2");
    // The best face is the quality-0.9 observation, the second of the first batch.
    const events = await t.api<{ events: { id: string; frameSeq: string }[] }>(
      "GET",
      "/v1/events?cameraId=cam-1",
      {
        token: viewer,
      },
    );
    const best = events.body.events.find((e) => e.id === atCam1!.bestEventId);
    assert.equal(best?.frameSeq, "2");
    const thumbnail = await fetch(`${t.url}/v1/events/${atCam1!.bestEventId}/thumbnail`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(thumbnail.status, 200);
    assert.equal(thumbnail.headers.get("content-type"), "image/jpeg");

    const replay = await stream.exchange(first, second);
    assert.deepEqual(
      replay.map((a) => a.duplicate),
      [true, true],
    );
    const again = await list("?cameraId=cam-1");
    assert.equal(again.body.sightings.length, 1);
    assert.equal(again.body.sightings[0]?.observations, 4);
  });

  it("filters and pages", async () => {
    const later = makeBatch({
      workerId: "w-1",
      siteId: "site-1",
      cameraId: "cam-1",
      observations: track(7, start, [60]),
    });
    await stream.exchange(later);
    const all = (await list()).body.sightings;
    assert.deepEqual(
      all.map((s) => s.trackId),
      [7, 5, 6],
    );
    const seen: number[] = [];
    let token = "";
    do {
      const page = await list(`?pageSize=1${token ? `&pageToken=${token}` : ""}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.sightings.map((s) => s.trackId));
      token = page.body.nextPageToken;
    } while (token);
    assert.deepEqual(seen, [7, 5, 6]);
    const ids = async (query: string) => (await list(query)).body.sightings.map((s) => s.trackId);
    assert.deepEqual(await ids("?siteId=site-2"), [6]);
    assert.deepEqual(await ids("?workerId=w-1&cameraId=cam-1"), [7, 5]);
    assert.deepEqual(await ids("?identified=false"), [7, 5, 6]);
    assert.deepEqual(await ids("?identified=true"), []);
    assert.deepEqual(await ids(`?personId=${crypto.randomUUID()}`), []);
    // Seen from start+30 s on: tracks 7 (at 60 s) only; seen before start+6 s: 5 (began at 0) and 6 (5 s).
    assert.deepEqual(await ids(`?from=${new Date(start + 30_000).toISOString()}`), [7]);
    assert.deepEqual(await ids(`?to=${new Date(start + 6000).toISOString()}`), [5, 6]);
  });

  it("answers bad queries with 400 problem+json and a stable code", async () => {
    const cases: [string, string, string][] = [
      ["?pageSize=0", "validation_failed", "query.pageSize"],
      ["?pageSize=abc", "validation_failed", "query.pageSize"],
      ["?from=yesterday", "validation_failed", "query.from"],
      [
        `?from=${new Date().toISOString()}&to=${new Date(0).toISOString()}`,
        "validation_failed",
        "query.from",
      ],
      ["?identified=maybe", "validation_failed", "query.identified"],
      ["?cameraId=cam%201", "validation_failed", "query.cameraId"],
      ["?colour=red", "validation_failed", "query"],
      ["?personId=p-1&identified=false", "validation_failed", "query.identified"],
      ["?pageToken=not-a-token", "invalid_page_token", ""],
    ];
    for (const [query, code, field] of cases) {
      const res = await t.api<Problem>("GET", `/v1/sightings${query}`, { token: viewer });
      assert.equal(res.status, 400, query);
      assert.equal(res.headers.get("content-type"), "application/problem+json", query);
      assert.equal(res.body.code, code, query);
      if (field)
        assert.ok(
          res.body.errors?.some((e) => e.field === field),
          `${query}: ${JSON.stringify(res.body)}`,
        );
    }
    assert.equal((await t.api<Problem>("GET", "/v1/sightings")).body.code, "missing_token");
    assert.equal((await t.api<Problem>("GET", "/v1/sightings", { token: worker })).status, 403);
    assert.equal((await t.api<Problem>("GET", "/v1/sightings/stream")).status, 401);
    assert.equal((await t.api<Problem>("GET", "/v1/sightings/stream", { token: worker })).status, 403);
  });

  it("streams new and updated sightings live to the tenant's viewers, and no other tenant's", async () => {
    const feed = await FeedReader.open(`${t.url}/v1/sightings/stream`, viewer);
    const feedB = await FeedReader.open(`${t.url}/v1/sightings/stream`, adminB);
    try {
      assert.equal(feed.response.status, 200);
      assert.match(feed.response.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(feed.response.headers.get("cache-control"), "no-cache, no-transform");
      await until("the feed is open", async () => feed.comments.includes("connected"));
      const now = Date.now();
      await stream.exchange(
        makeBatch({
          workerId: "w-live",
          siteId: "site-1",
          cameraId: "cam-live",
          observations: track(9, now, [0]),
        }),
      );
      const live = () => feed.frames.filter((f) => f.data.cameraId === "cam-live");
      await until("a sighting.started frame", async () => live().length >= 1);
      const [started] = live();
      assert.equal(started?.event, "sighting.started");
      assert.equal(started?.data.trackId, 9);
      assert.equal(started?.data.observations, 1);
      await stream.exchange(
        makeBatch({
          workerId: "w-live",
          siteId: "site-1",
          cameraId: "cam-live",
          observations: track(9, now, [1, 2]),
        }),
      );
      await until("a sighting.updated frame", async () => live().some((f) => f.event === "sighting.updated"));
      const updated = live().at(-1)!;
      assert.equal(updated.event, "sighting.updated");
      assert.equal(updated.data.id, started?.data.id);
      assert.equal(updated.data.observations, 3);
      assert.notEqual(updated.id, started?.id);
      // What the feed said is what the list says.
      const listed = (await list("?cameraId=cam-live")).body.sightings;
      assert.deepEqual(listed, [updated.data]);
      assert.equal(feedB.frames.length, 0, "tenant B sees nothing of tenant A");
      assert.equal((await list("", adminB)).body.sightings.length, 0);
    } finally {
      feed.close();
      feedB.close();
    }
    await feed.done;
    // The gateway let go of the feeds: it still answers, and a new feed opens.
    const reopened = await FeedReader.open(`${t.url}/v1/sightings/stream`, viewer);
    assert.equal(reopened.response.status, 200);
    reopened.close();
  });

  it("an ingest killed and restarted knows the sightings it wrote: a replay after the restart counts nothing twice", async () => {
    const batch = makeBatch({
      workerId: "w-k",
      siteId: "site-1",
      cameraId: "cam-kill",
      observations: track(11, Date.now(), [0, 1]),
    });
    assert.equal((await stream.exchange(batch))[0]?.accepted, 2);
    await t.stack.kill("ingest");
    await t.stack.start("ingest");
    // Ready, not just listening: until its revocation feed has synced, ingest refuses every stream.
    await t.stack.waitUntilReady(30_000);
    await waitForIngest(client);
    stream = new WorkerStream(client, worker);
    const more = makeBatch({
      workerId: "w-k",
      siteId: "site-1",
      cameraId: "cam-kill",
      observations: track(11, Date.now(), [2]),
    });
    const acks = await stream.exchange(batch, more);
    assert.deepEqual(
      acks.map((a) => [a.duplicate, a.accepted]),
      [
        [true, 0],
        [false, 1],
      ],
    );
    const sightings = (await list("?cameraId=cam-kill")).body.sightings;
    assert.deepEqual(
      sightings.map((s) => [s.trackId, s.observations]),
      [[11, 3]],
    );
  });

  it("keeps a quiet feed open past the server's request timeout (30 s) with a keep-alive comment every 15 s", async () => {
    const feed = await FeedReader.open(`${t.url}/v1/sightings/stream`, viewer);
    try {
      const opened = performance.now();
      await until(
        "two keep-alive comments",
        async () => feed.comments.filter((c) => c === "keep-alive").length >= 2,
        40_000,
      );
      const waited = performance.now() - opened;
      assert.ok(waited >= 29_000 && waited < 35_000, `second keep-alive after ${Math.round(waited)} ms`);
      await stream.exchange(
        makeBatch({
          workerId: "w-quiet",
          siteId: "site-1",
          cameraId: "cam-quiet",
          observations: track(12, Date.now(), [0]),
        }),
      );
      await until("a frame after 30 s", async () => feed.frames.some((f) => f.data.cameraId === "cam-quiet"));
    } finally {
      feed.close();
    }
  });

  it("is in the OpenAPI document with examples", async () => {
    const doc = await t.api<{
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
      components: { schemas: Record<string, { example?: unknown }> };
    }>("GET", "/v1/openapi.json");
    assert.ok(doc.body.paths["/v1/sightings"]?.get);
    assert.ok(doc.body.paths["/v1/sightings/stream"]?.get?.responses["200"]?.content?.["text/event-stream"]);
    assert.ok(doc.body.components.schemas.Sighting?.example);
  });
});
