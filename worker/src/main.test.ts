// The worker process end to end (`npm start` in worker/) against the real stack: ffmpeg decoding a
// test video, the BlazeFace and MobileFaceNet models, the token exchange, the ingest stream and
// the on-disk queue; results read back through the REST API.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@facerec/shared/net.ts";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { WORKER_DIR } from "./config.ts";
import { MODELS } from "./models/manifest.ts";
import { requireModel } from "./test-support/models.ts";
import { makeAstronautVideo } from "./test-support/videos.ts";

/** Deadline for what the worker process does (it loads models and decodes video first). */
const PROCESS_TIMEOUT_MS = 60_000;

interface WorkerProcess {
  child: ChildProcess;
  /** The worker's pino lines, parsed. */
  logs: Record<string, unknown>[];
  httpPort: number;
  exited: Promise<number | null>;
  status(): Promise<Record<string, unknown>>;
}

interface StoredEvent {
  siteId: string;
  cameraId: string;
  workerId: string;
  keyId: string;
  frameSeq: string;
  bbox: { x: number; y: number };
  embeddingDim: number;
  thumbnailUrl: string | null;
}

describe("worker process", () => {
  let t: TestStack;
  let admin: string;
  let videoDir: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    requireModel(MODELS.blazefaceBack);
    requireModel(MODELS.dlib);
    videoDir = mkdtempSync(path.join(os.tmpdir(), "worker-e2e-"));
    t = await startTestStack();
    admin = await t.login();
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await t.stop();
  });

  async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
    const httpPort = await freePort();
    const child = spawn(process.execPath, [path.join(WORKER_DIR, "src/main.ts")], {
      cwd: WORKER_DIR,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        API_URL: t.url,
        TENANT_ID: TENANT,
        SITE_ID: "site-lobby",
        WORKER_HTTP_PORT: String(httpPort),
        WORKER_FPS: "0",
        BATCH_MAX_FACES: "4",
        BATCH_MAX_MS: "100",
        QUEUE_DIR: mkdtempSync(path.join(os.tmpdir(), "worker-queue-")),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs: Record<string, unknown>[] = [];
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) logs.push(JSON.parse(line));
    });
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const worker: WorkerProcess = {
      child,
      logs,
      httpPort,
      exited,
      async status() {
        const response = await fetch(`http://127.0.0.1:${httpPort}/status`);
        return (await response.json()) as Record<string, unknown>;
      },
    };
    workers.push(worker);
    return worker;
  }

  /** Every event of a camera visible to `token`'s tenant (the default tenant's admin by default). */
  async function storedEvents(cameraId: string, token = admin): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let pageToken = "";
    do {
      const query = new URLSearchParams({ cameraId, pageSize: "500", ...(pageToken ? { pageToken } : {}) });
      const response = await t.api<{ events: StoredEvent[]; nextPageToken: string }>(
        "GET",
        `/v1/events?${query}`,
        { token },
      );
      assert.equal(response.status, 200, JSON.stringify(response.body));
      events.push(...response.body.events);
      pageToken = response.body.nextPageToken;
    } while (pageToken);
    return events;
  }

  const finalCounts = (w: WorkerProcess) => {
    const line = w.logs.find((l) => l.msg === "worker stopped");
    assert.ok(line, "the worker logs its counters when it stops");
    return line as { frames: number; observations: number; queueDepth: number };
  };

  it("streams a video's faces to the platform; killing ingest mid-run loses and doubles nothing", async () => {
    const { id: keyId, key } = await t.createKey(admin, { role: "worker" });
    // Long enough that ingest is killed while the file still plays, even on a loaded machine.
    const video = makeAstronautVideo(videoDir, { seconds: 20, fps: 10 });
    const worker = await startWorker({
      WORKER_API_KEY: key,
      WORKER_ID: "worker-e2e-1",
      CAMERA_ID: "cam-entrance",
      VIDEO_SOURCE: video,
      // Paced so the run outlasts the ingest outage below.
      WORKER_FPS: "8",
    });

    // Events arrive through the REST API with the identity the worker was configured with, in the
    // key's tenant and no other.
    const first = await until(
      "the first events are stored",
      async () => {
        const events = await storedEvents("cam-entrance");
        return events.length > 0 ? events : undefined;
      },
      PROCESS_TIMEOUT_MS,
    );
    assert.deepEqual(
      { siteId: first[0]?.siteId, workerId: first[0]?.workerId, keyId: first[0]?.keyId },
      { siteId: "site-lobby", workerId: "worker-e2e-1", keyId },
    );
    const otherTenant = await t.createTenant("t-other");
    assert.deepEqual(await storedEvents("cam-entrance", otherTenant), []);
    assert.equal(first[0]?.embeddingDim, MODELS.dlib.embeddingDim, "the default embedder: dlib");

    // A crash of the ingest service mid-run; the worker queues on disk and replays afterwards.
    await t.stack.kill("ingest");
    await until(
      "the worker notices the stream is gone",
      async () => {
        const s = await worker.status();
        return s.streamState !== "open" ? s : undefined;
      },
      PROCESS_TIMEOUT_MS,
    );
    await sleep(2_000);
    await t.stack.start("ingest");

    // The file ends; the worker delivers what is queued and exits by itself.
    assert.equal(await worker.exited, 0);
    const counts = finalCounts(worker);
    assert.equal(counts.queueDepth, 0);
    assert.ok(counts.observations >= 50, `a face in most of the ${counts.frames} frames`);

    const stored = await storedEvents("cam-entrance");
    assert.equal(stored.length, counts.observations, "stored events equal produced observations");
    const distinct = new Set(stored.map((e) => `${e.frameSeq}/${e.bbox.x}/${e.bbox.y}`));
    assert.equal(distinct.size, stored.length, "no observation stored twice");

    // THUMBNAILS=best (the default) in basic mode: about one face crop per second of video, which
    // the gateway serves back as the JPEG the worker made.
    const withThumbnail = stored.filter((e) => e.thumbnailUrl);
    assert.ok(
      withThumbnail.length >= 3 && withThumbnail.length < stored.length / 2,
      `${withThumbnail.length} of ${stored.length} events have a thumbnail`,
    );
    const response = await fetch(new URL(withThumbnail[0]!.thumbnailUrl!, t.url), {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^image\/jpeg/);
    const jpeg = Buffer.from(await response.arrayBuffer());
    assert.ok(jpeg.length > 1000 && jpeg.length <= 12 * 1024, `${jpeg.length} bytes`);
    assert.deepEqual([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
  });

  it("logs key_inactive once with its fix, shows it in /status, resumes by itself after reactivation and clears it", async () => {
    const { id: keyId, key } = await t.createKey(admin, { role: "worker" });
    const video = makeAstronautVideo(videoDir, { seconds: 4, fps: 10 });
    const worker = await startWorker({
      WORKER_API_KEY: key,
      WORKER_ID: "worker-e2e-2",
      CAMERA_ID: "cam-garage",
      VIDEO_SOURCE: video,
      VIDEO_LOOP: "true",
      WORKER_FPS: "5",
    });
    await until(
      "events stream",
      async () => ((await storedEvents("cam-garage")).length > 0 ? true : undefined),
      PROCESS_TIMEOUT_MS,
    );

    const deactivate = await t.api("PATCH", `/v1/api-keys/${keyId}`, {
      token: admin,
      body: { active: false },
    });
    assert.equal(deactivate.status, 200);
    const logged = await until(
      "the worker logs key_inactive",
      () => worker.logs.find((l) => l.code === "key_inactive"),
      PROCESS_TIMEOUT_MS,
    );
    assert.match(
      String(logged.msg),
      /^paused: key_inactive — check key status: activate the key in the dashboard \(API Keys\); retrying after 5 s at first, backing off to every 60 s$/,
    );
    assert.match(String(logged.time), /^\d{4}-\d\d-\d\dT/, "JSON lines (not a terminal) with ISO times");
    const status = await until(
      "/status shows key_inactive",
      async () => {
        const s = await worker.status();
        return s.authError === "key_inactive" ? s : undefined;
      },
      PROCESS_TIMEOUT_MS,
    );
    assert.equal(status.authState, "rejected");
    assert.ok(worker.child.exitCode === null, "an unusable key does not crash the worker");

    const storedWhileInactive = (await storedEvents("cam-garage")).length;
    await sleep(1_000);
    assert.equal(
      (await storedEvents("cam-garage")).length,
      storedWhileInactive,
      "nothing is stored while inactive",
    );

    const reactivate = await t.api("PATCH", `/v1/api-keys/${keyId}`, {
      token: admin,
      body: { active: true },
    });
    assert.equal(reactivate.status, 200);
    await until(
      "the worker authenticates again and new events are stored",
      async () => {
        const s = await worker.status();
        const count = (await storedEvents("cam-garage")).length;
        return s.authState === "authenticated" && count > storedWhileInactive ? true : undefined;
      },
      90_000,
    );
    assert.equal((await worker.status()).lastError, null, "/status forgets the refusal after recovery");
    assert.equal(worker.logs.filter((l) => l.code === "key_inactive").length, 1, "one line per state change");
    assert.ok(worker.logs.some((l) => l.msg === "resumed: the API key is accepted"));

    worker.child.kill("SIGTERM");
    assert.equal(await worker.exited, 0);
  });
});
