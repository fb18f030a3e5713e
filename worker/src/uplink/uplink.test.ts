// The uplink against the real stack (database, auth, keys, ingest, gateway as processes): delivery,
// an API outage with nothing lost or doubled, and the guide's 401 causes reported and recovered from.
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { FaceObservation } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { createLogger } from "../logger.ts";
import { embeddingBytes } from "../sink.ts";
import { Telemetry } from "../telemetry.ts";
import { DiskQueue } from "./disk-queue.ts";
import { Uplink } from "./uplink.ts";

function observation(seq: number): FaceObservation {
  const embedding = new Float32Array(512).map((_, i) => Math.sin(seq + i));
  const norm = Math.hypot(...embedding);
  return {
    capturedAt: new Date(),
    frameSeq: seq,
    bbox: { x: 10, y: 20, width: 100, height: 120 },
    landmarks: [40, 60, 80, 60, 60, 80, 60, 100],
    detScore: 0.9,
    embedding: embeddingBytes(embedding.map((v) => v / norm)),
    embeddingDim: 512,
    model: "insightface/w600k_r50",
    quality: 0.8,
    trackId: 0,
    thumbnailJpeg: Buffer.alloc(0),
  };
}

describe("uplink", () => {
  let t: TestStack;
  let admin: string;
  /** Closed after the tests even when one fails, so no retry loop outlives the file. */
  const uplinks: Uplink[] = [];
  before(async () => {
    t = await startTestStack();
    admin = await t.login();
  });
  after(async () => {
    await Promise.all(uplinks.map((u) => u.close()));
    await t.stop();
  });

  async function uplinkFor(key: string, cameraId: string) {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const telemetry = new Telemetry();
    const queue = await DiskQueue.open(await mkdtemp(path.join(tmpdir(), "uplink-queue-")), 64 << 20);
    const uplink = new Uplink({
      apiUrl: t.url,
      apiKey: key,
      tenantId: TENANT,
      workerId: "worker-001",
      siteId: "s-1",
      cameraId,
      ingestUrl: undefined,
      batchMaxFaces: 4,
      batchMaxMs: 50,
      queue,
      telemetry,
      log,
    });
    uplink.start();
    uplinks.push(uplink);
    return { uplink, queue, telemetry, lines };
  }

  const storedFor = async (cameraId: string) => {
    const res = await t.api<{ events: { frameSeq?: string | number }[] }>(
      "GET",
      `/v1/events?cameraId=${cameraId}&pageSize=500`,
      { token: admin },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.events;
  };

  it("delivers every observation exactly once and empties its queue", async () => {
    const { key } = await t.createKey(admin, { role: "worker" });
    const { uplink, queue, telemetry } = await uplinkFor(key, "cam-deliver");
    for (let seq = 0; seq < 30; seq++) await uplink.send([observation(seq)]);
    await uplink.flush();
    await until("the queue is empty", () => queue.depth === 0);
    await uplink.close();
    assert.equal((await storedFor("cam-deliver")).length, 30);
    const status = telemetry.snapshot();
    assert.equal(status.authState, "authenticated");
    assert.equal(status.queueDepth, 0);
  });

  it("loses and doubles nothing while the API and ingest are down", async () => {
    const { key } = await t.createKey(admin, { role: "worker" });
    const { uplink, queue } = await uplinkFor(key, "cam-outage");
    for (let seq = 0; seq < 10; seq++) await uplink.send([observation(seq)]);
    await uplink.flush();
    await until("the first batches are stored", () => queue.depth === 0);
    await t.stack.kill("ingest");
    await t.stack.kill("gateway");
    for (let seq = 10; seq < 50; seq++) await uplink.send([observation(seq)]);
    await uplink.flush();
    await sleep(1500);
    assert.ok(queue.depth >= 10, `batches wait on disk during the outage (depth ${queue.depth})`);
    await t.stack.start("ingest");
    await t.stack.start("gateway");
    await t.stack.waitUntilReady();
    await until("the queue drains after the outage", () => queue.depth === 0, 60_000);
    await uplink.close();
    const stored = await storedFor("cam-outage");
    assert.equal(stored.length, 50, "every observation once");
  });

  it("reports key_inactive with its fix, stops streaming, and resumes by itself when the key is reactivated", async () => {
    const { id, key } = await t.createKey(admin, { role: "worker" });
    const { uplink, queue, telemetry, lines } = await uplinkFor(key, "cam-revoked");
    await uplink.send([observation(0)]);
    await uplink.flush();
    await until("the first batch is stored", () => queue.depth === 0);
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
    await until(
      "the uplink reports the inactive key",
      () => telemetry.snapshot().authError === "key_inactive",
      15_000,
    );
    assert.equal(telemetry.snapshot().authState, "rejected");
    const logged = lines.filter((l) => l.includes("key_inactive"));
    assert.equal(logged.length, 1, "one log line for the cause, not one per retry");
    const { msg, time } = JSON.parse(logged[0]!) as { msg: string; time: string };
    assert.match(
      msg,
      /^paused: key_inactive — check key status: activate the key in the dashboard \(API Keys\); retrying after 5 s at first, backing off to every 60 s$/,
    );
    assert.equal(msg.match(/dashboard/g)?.length, 1, "the fix is said once");
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "ISO time, not epoch ms");
    assert.match(String(telemetry.snapshot().lastError?.message), /key_inactive/);
    await uplink.send([observation(1)]);
    await uplink.send([observation(2)]);
    await uplink.flush();
    await sleep(300);
    assert.ok(queue.depth > 0, "observations wait on disk while the key is unusable");
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: true } });
    await until(
      "delivery resumes",
      () => queue.depth === 0 && telemetry.snapshot().authState === "authenticated",
      90_000,
    );
    assert.equal(telemetry.snapshot().lastError, null, "/status forgets the refusal once the key works");
    assert.equal(lines.filter((l) => l.includes("key_inactive")).length, 1, "retries logged nothing more");
    assert.ok(
      lines.some((l) => JSON.parse(l).msg === "resumed: the API key is accepted"),
      "the recovery is one line",
    );
    await uplink.close();
    assert.equal((await storedFor("cam-revoked")).length, 3);
  });
});
