/** GET /v1/workers, /v1/events and /v1/events/{id}/thumbnail against the real stack, fed by a real worker stream. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FaceBatch, IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
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

type Event = {
  id: string;
  batchId: string;
  workerId: string;
  siteId: string;
  cameraId: string;
  keyId: string;
  capturedAt: string;
  frameSeq: string;
  trackId: string;
  bbox: { x: number; y: number; width: number; height: number };
  landmarks: number[];
  thumbnailUrl: string | null;
  embedding?: string;
};
type EventsPage = { events: Event[]; nextPageToken: string };
type Worker = {
  workerId: string;
  keyId: string;
  keyName: string;
  siteId: string;
  cameraId: string;
  remoteAddress: string;
  connected: boolean;
  connectedSince: string | null;
  lastBatchAt: string | null;
  observationsPerMinute: number;
  streamCount: number;
  disconnectReason: string | null;
};

const MINUTE = 60_000;

describe("REST /v1/workers and /v1/events", () => {
  let t: TestStack;
  let client: IngestServiceClient;
  let admin: string;
  let viewer: string;
  let worker: { keyId: string; token: string };
  let adminB: string;
  let stream: WorkerStream;
  let batches: FaceBatch[];
  const start = Date.now();

  before(async () => {
    t = await startTestStack();
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    admin = await t.login();
    viewer = (await keyToken(t, admin, { role: "viewer" })).token;
    worker = await keyToken(t, admin);
    adminB = await t.createTenant("t-bravo");
    // Six observations captured one minute apart, newest first: two sites, two cameras.
    const at = (minutesAgo: number) => new Date(start - minutesAgo * MINUTE);
    batches = [
      makeBatch({
        workerId: "w-rest",
        siteId: "site-1",
        cameraId: "cam-1",
        observations: [
          makeObservation({
            capturedAt: at(1),
            thumbnailJpeg: faceThumbnail(),
            frameSeq: 9_007_199_254,
            trackId: 42,
          }),
          makeObservation({ capturedAt: at(2) }),
        ],
      }),
      makeBatch({
        workerId: "w-rest",
        siteId: "site-1",
        cameraId: "cam-2",
        observations: [makeObservation({ capturedAt: at(3) }), makeObservation({ capturedAt: at(4) })],
      }),
      makeBatch({
        workerId: "w-rest",
        siteId: "site-2",
        cameraId: "cam-3",
        observations: [makeObservation({ capturedAt: at(5) }), makeObservation({ capturedAt: at(6) })],
      }),
    ];
    stream = new WorkerStream(client, worker.token);
    await stream.exchange(...batches);
  });
  after(async () => {
    client.close();
    await t.stop();
  });

  const events = (query: string, token = admin) => t.api<EventsPage>("GET", `/v1/events${query}`, { token });

  it("lists a connected worker with its key, site, camera, address and rate", async () => {
    const res = await t.api<{ workers: Worker[] }>("GET", "/v1/workers", { token: viewer });
    assert.equal(res.status, 200);
    const [w] = res.body.workers;
    assert.deepEqual(
      {
        workerId: w!.workerId,
        keyId: w!.keyId,
        siteId: w!.siteId,
        cameraId: w!.cameraId,
        connected: w!.connected,
        streamCount: w!.streamCount,
        observationsPerMinute: w!.observationsPerMinute,
      },
      {
        workerId: "w-rest",
        keyId: worker.keyId,
        siteId: "site-2",
        cameraId: "cam-3",
        connected: true,
        streamCount: 1,
        observationsPerMinute: 6,
      },
    );
    assert.match(w!.keyName, /^key /);
    assert.match(w!.remoteAddress, /127\.0\.0\.1/);
    assert.ok(Date.parse(w!.connectedSince!) >= start - 1000);
    assert.ok(Date.parse(w!.lastBatchAt!) >= Date.parse(w!.connectedSince!));
  });

  it("records the stream as the key's last use: when, which worker, from where", async () => {
    type Key = { lastUsedAt: string | null; lastUsedBy: { workerId: string; remoteAddress: string } | null };
    // The token exchange set lastUsedAt a moment before the stream; the stream adds who and where.
    const key = await until("the key's last use names the streaming worker", async () => {
      const res = await t.api<{ apiKey: Key }>("GET", `/v1/api-keys/${worker.keyId}`, { token: admin });
      return res.body.apiKey.lastUsedBy ? res.body.apiKey : undefined;
    });
    assert.equal(key.lastUsedBy!.workerId, "w-rest");
    assert.match(key.lastUsedBy!.remoteAddress, /^(::ffff:)?127\.0\.0\.1$/);
    assert.ok(Date.parse(key.lastUsedAt!) >= start - 1000);
  });

  it("keeps listing a worker after it disconnects, as not connected", async () => {
    const extra = new WorkerStream(client, worker.token);
    await extra.exchange(makeBatch({ workerId: "w-leaving" }));
    await extra.finish();
    const res = await t.api<{ workers: Worker[] }>("GET", "/v1/workers", { token: admin });
    const leaving = res.body.workers.find((w) => w.workerId === "w-leaving");
    assert.deepEqual(
      [leaving?.connected, leaving?.streamCount, leaving?.connectedSince, leaving?.disconnectReason],
      [false, 0, null, "worker_closed"],
    );
  });

  it("says a worker disconnected because its key was deactivated", async () => {
    const { keyId, token } = await keyToken(t, admin);
    const revoked = new WorkerStream(client, token);
    await revoked.exchange(makeBatch({ workerId: "w-revoked" }));
    const connected = await t.api<{ workers: Worker[] }>("GET", "/v1/workers", { token: admin });
    const before = connected.body.workers.find((w) => w.workerId === "w-revoked");
    assert.deepEqual([before?.connected, before?.disconnectReason], [true, null]);
    await t.api("PATCH", `/v1/api-keys/${keyId}`, { token: admin, body: { active: false } });
    await revoked.ended;
    const reason = await until("the worker list names the deactivation", async () => {
      const res = await t.api<{ workers: Worker[] }>("GET", "/v1/workers", { token: admin });
      return res.body.workers.find((w) => w.workerId === "w-revoked" && !w.connected)?.disconnectReason;
    });
    assert.equal(reason, "key_inactive");
  });

  it("returns events newest first with their fields, and embeddings only when asked", async () => {
    const res = await events("?workerId=w-rest");
    assert.equal(res.status, 200);
    assert.equal(res.body.events.length, 6);
    const times = res.body.events.map((e) => Date.parse(e.capturedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    const [newest] = res.body.events;
    assert.deepEqual(
      [newest!.batchId, newest!.siteId, newest!.cameraId, newest!.keyId, newest!.frameSeq, newest!.trackId],
      [batches[0]!.batchId, "site-1", "cam-1", worker.keyId, "9007199254", "42"],
    );
    assert.deepEqual(newest!.bbox, { x: 10, y: 20, width: 112, height: 120 });
    assert.deepEqual(newest!.landmarks, [40, 50, 80, 50, 60, 70, 45, 90, 75, 90]);
    assert.ok(
      res.body.events.every((e) => !("embedding" in e)),
      "no embeddings by default",
    );

    const withEmbeddings = await events("?workerId=w-rest&includeEmbeddings=true");
    const sent = batches.flatMap((b) => b.observations.map((o) => o.embedding.toString("base64")));
    assert.deepEqual(withEmbeddings.body.events.map((e) => e.embedding).sort(), sent.sort());
  });

  it("filters by site, camera, worker and capture time", async () => {
    const count = async (query: string) => (await events(query)).body.events.length;
    assert.equal(await count("?siteId=site-1&workerId=w-rest"), 4);
    assert.equal(await count("?siteId=site-1&cameraId=cam-2"), 2);
    assert.equal(await count("?cameraId=cam-3&workerId=w-rest"), 2);
    assert.equal(await count("?workerId=nobody"), 0);
    const from = new Date(start - 4.5 * MINUTE).toISOString();
    const to = new Date(start - 1.5 * MINUTE).toISOString();
    assert.equal(
      await count(`?workerId=w-rest&from=${from}&to=${to}`),
      3,
      "from inclusive, to exclusive, minutes 2-4",
    );
  });

  it("pages with an opaque token: every event once, in order", async () => {
    const seen: Event[] = [];
    let pageToken = "";
    do {
      const res = await events(`?workerId=w-rest&pageSize=4${pageToken ? `&pageToken=${pageToken}` : ""}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.events.length <= 4);
      seen.push(...res.body.events);
      pageToken = res.body.nextPageToken;
    } while (pageToken);
    assert.equal(seen.length, 6);
    assert.equal(new Set(seen.map((e) => e.id)).size, 6);
    const times = seen.map((e) => Date.parse(e.capturedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      "pages continue where the previous one ended",
    );
  });

  it("answers bad queries with 400 problem details", async () => {
    for (const [query, code] of [
      ["?pageSize=501", "validation_failed"],
      ["?pageSize=0", "validation_failed"],
      ["?from=yesterday", "validation_failed"],
      [
        `?from=${new Date(start).toISOString()}&to=${new Date(start - MINUTE).toISOString()}`,
        "validation_failed",
      ],
      ["?siteId=a%2Fb", "validation_failed"],
      ["?includeEmbeddings=maybe", "validation_failed"],
      ["?tenantId=t-bravo", "validation_failed"],
      ["?pageToken=not-a-token", "invalid_page_token"],
    ] as const) {
      const res = await t.api<{ code: string }>("GET", `/v1/events${query}`, { token: admin });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, code, query);
    }
  });

  it("serves a thumbnail as image/jpeg, and 404 for events without one", async () => {
    const all = (await events("?workerId=w-rest")).body.events;
    const withThumbnail = all.filter((e) => e.thumbnailUrl);
    assert.equal(withThumbnail.length, 1);
    const res = await fetch(`${t.url}${withThumbnail[0]!.thumbnailUrl}`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/jpeg");
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(faceThumbnail()));
    const without = all.find((e) => !e.thumbnailUrl)!;
    assert.equal((await t.api("GET", `/v1/events/${without.id}/thumbnail`, { token: admin })).status, 404);
    assert.equal((await t.api("GET", "/v1/events/no-such-event/thumbnail", { token: admin })).status, 404);
  });

  it("lets viewers and admins read, not workers or anonymous callers", async () => {
    const thumbnail = (await events("?workerId=w-rest")).body.events[0]!.thumbnailUrl!;
    for (const path of ["/v1/workers", "/v1/events", thumbnail]) {
      assert.equal((await t.api("GET", path, { token: worker.token })).status, 403, `worker: ${path}`);
      assert.equal((await t.api("GET", path)).status, 401, `anonymous: ${path}`);
      assert.equal((await t.api("GET", path, { token: viewer })).status, 200, `viewer: ${path}`);
    }
  });

  it("keeps tenants apart on every endpoint, both ways", async () => {
    const workerB = await keyToken(t, adminB, { tenantId: "t-bravo" });
    const streamB = new WorkerStream(client, workerB.token);
    await streamB.exchange(
      makeBatch({ workerId: "w-bravo", observations: [makeObservation({ thumbnailJpeg: faceThumbnail() })] }),
    );

    const ofA = (await events("")).body.events;
    const ofB = (await events("", adminB)).body.events;
    assert.ok(ofA.length >= 6 && ofA.every((e) => e.workerId !== "w-bravo"));
    assert.deepEqual(
      ofB.map((e) => e.workerId),
      ["w-bravo"],
    );
    const workersOf = async (token: string) =>
      (await t.api<{ workers: Worker[] }>("GET", "/v1/workers", { token })).body.workers.map(
        (w) => w.workerId,
      );
    assert.ok(!(await workersOf(admin)).includes("w-bravo"));
    assert.deepEqual(await workersOf(adminB), ["w-bravo"]);
    const thumbnailOfA = ofA.find((e) => e.thumbnailUrl)!.thumbnailUrl!;
    assert.equal((await t.api("GET", thumbnailOfA, { token: adminB })).status, 404);
    assert.equal((await t.api("GET", ofB[0]!.thumbnailUrl!, { token: admin })).status, 404);
    assert.equal((await t.api("GET", ofB[0]!.thumbnailUrl!, { token: adminB })).status, 200);
    await streamB.finish();
  });

  it("documents the endpoints in the OpenAPI document", async () => {
    const doc = (
      await t.api<{ paths: Record<string, { get?: { security?: unknown[] } }> }>("GET", "/v1/openapi.json")
    ).body;
    for (const path of ["/v1/workers", "/v1/events", "/v1/events/{id}/thumbnail"]) {
      assert.ok(doc.paths[path]?.get?.security?.length, path);
    }
    await stream.finish();
  });
});
