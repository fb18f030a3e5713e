/**
 * Exactly-once in effect across failures: a worker that replays every unacknowledged batch on
 * reconnect ends with each batch stored exactly once, whether the ingest process is SIGKILLed
 * mid-stream or the database is killed mid-stream and kept down for 10 s. Acknowledged batches are durable at the
 * moment of their ack. A database that stops answering (SIGSTOP) fails calls within seconds with a
 * clear `storage_unavailable` instead of hanging them.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FaceBatch, IngestAck, IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { type RunningFerretDb, startFerretDb } from "@facerec/shared/db/ferretdb.ts";
import { freePort } from "@facerec/shared/net.ts";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  ingestClient,
  keyToken,
  makeBatch,
  type StreamEnd,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { status } from "@grpc/grpc-js";
import mongoose, { type Connection } from "mongoose";
import { findStoredEvents } from "./event-store.ts";

const OBSERVATIONS_PER_BATCH = 4;

/** What a worker does: send every unacknowledged batch, and on any stream end reconnect and send them again. */
class ReplayingWorker {
  readonly ends: StreamEnd[] = [];
  readonly #acked = new Map<string, IngestAck>();
  readonly #client: IngestServiceClient;
  readonly #token: string;
  readonly #batches: FaceBatch[];
  #current: WorkerStream | undefined;

  constructor(client: IngestServiceClient, token: string, batches: FaceBatch[]) {
    this.#client = client;
    this.#token = token;
    this.#batches = batches;
  }

  /** Batch ids acknowledged so far, including on the stream open now. */
  acked(): string[] {
    for (const ack of this.#current?.acks ?? []) this.#acked.set(ack.batchId, ack);
    return [...this.#acked.keys()];
  }

  async run(timeoutMs: number): Promise<IngestAck[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked().length < this.#batches.length) {
      if (Date.now() > deadline) throw new Error(`only ${this.acked().length} batches acknowledged in time`);
      const acked = new Set(this.acked());
      const pending = this.#batches.filter((b) => !acked.has(b.batchId));
      const stream = new WorkerStream(this.#client, this.#token);
      this.#current = stream;
      try {
        await stream.send(...pending);
        await stream.waitForAcks(pending.length, 60_000);
        await stream.finish();
      } catch {
        // The stream ended early; what it acknowledged counts, the rest is replayed.
      }
      this.acked();
      this.ends.push(await stream.ended);
      if (this.acked().length < this.#batches.length)
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
    return [...this.#acked.values()];
  }
}

describe("delivery across failures", () => {
  let ferret: RunningFerretDb;
  let dataDir: string;
  let mongoPort: number;
  let t: TestStack;
  let client: IngestServiceClient;
  let token: string;
  let database: Connection;

  before(async () => {
    // A database of our own, so the test can stop it and start it again on the same port and files.
    dataDir = await mkdtemp(join(tmpdir(), "facerec-crash-db-"));
    mongoPort = await freePort();
    ferret = await startFerretDb({ dataDir, port: mongoPort });
    t = await startTestStack({}, { mongoUrl: ferret.url });
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    token = (await keyToken(t, await t.login())).token;
    database = await mongoose.createConnection(ferret.url, { dbName: t.dbName }).asPromise();
  });
  after(async () => {
    client.close();
    await database.close();
    await t.stop();
    await ferret.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const batchesFor = (workerId: string, count: number) =>
    Array.from({ length: count }, () => makeBatch({ workerId, observations: OBSERVATIONS_PER_BATCH }));

  /** Every listed batch has exactly its observations stored: none missing, none twice. */
  const assertStoredExactlyOnce = async (batchIds: string[]) => {
    const stored = await findStoredEvents(database.db!, { batchId: { $in: batchIds } });
    const perBatch = [...Map.groupBy(stored, (e) => e.batchId).values()].map((rows) => ({
      count: rows.length,
    }));
    assert.equal(perBatch.length, batchIds.length, "every batch is stored");
    assert.ok(
      perBatch.every((b) => b.count === OBSERVATIONS_PER_BATCH),
      "no batch has missing or doubled observations",
    );
  };

  it("SIGKILL of the ingest process mid-stream, then a restart: nothing acknowledged lost, nothing doubled", async () => {
    const batches = batchesFor("w-kill", 300);
    const worker = new ReplayingWorker(client, token, batches);
    const delivery = worker.run(120_000);
    await until("100 batches are acknowledged", () => worker.acked().length >= 100, 30_000);
    await t.stack.kill("ingest");
    const ackedBeforeCrash = worker.acked();
    await assertStoredExactlyOnce(ackedBeforeCrash);
    assert.ok(ackedBeforeCrash.length < batches.length, "the crash happened mid-stream");

    await t.stack.start("ingest");
    const acks = await delivery;
    assert.ok(acks.every((a) => !a.rejected));
    assert.ok(
      worker.ends.some((e) => e.code === status.UNAVAILABLE),
      "the crash ended a stream",
    );
    await assertStoredExactlyOnce(batches.map((b) => b.batchId));
    assert.equal(
      (await findStoredEvents(database.db!, { workerId: "w-kill" })).length,
      batches.length * OBSERVATIONS_PER_BATCH,
    );
  });

  it("the database killed mid-stream and down for 10 s: nothing acknowledged lost, nothing doubled", async () => {
    const batches = batchesFor("w-outage", 300);
    const worker = new ReplayingWorker(client, token, batches);
    const delivery = worker.run(120_000);
    await until("100 batches are acknowledged", () => worker.acked().length >= 100, 30_000);
    // Abruptly: a graceful stop lets the database serve its open connections for seconds more.
    const exited = new Promise((resolve) => ferret.process.once("exit", resolve));
    ferret.process.kill("SIGKILL");
    await exited;
    const ackedBeforeOutage = worker.acked();
    await new Promise((r) => setTimeout(r, 10_000));
    ferret = await startFerretDb({ dataDir, port: mongoPort });

    const acks = await delivery;
    assert.ok(acks.every((a) => !a.rejected));
    assert.ok(
      worker.ends.some((e) => e.errorCode === "storage_unavailable"),
      "the outage ended streams with UNAVAILABLE instead of acknowledging unstored batches",
    );
    assert.ok(ackedBeforeOutage.length < batches.length, "the outage happened mid-stream");
    // The worker never resends acknowledged batches, so these were durable when acknowledged.
    await assertStoredExactlyOnce(ackedBeforeOutage);
    await assertStoredExactlyOnce(batches.map((b) => b.batchId));
    assert.equal(
      (await findStoredEvents(database.db!, { workerId: "w-outage" })).length,
      batches.length * OBSERVATIONS_PER_BATCH,
    );
  });
  it("a database that stops answering: REST calls get 503 storage_unavailable, a stream UNAVAILABLE, within 5 s", async () => {
    const admin = await t.login();
    const stream = new WorkerStream(client, token);
    await stream.exchange(makeBatch({ workerId: "w-frozen" }));
    // Frozen, not dead: connections stay open and nothing answers (what a wedged database does).
    ferret.process.kill("SIGSTOP");
    try {
      const timed = async <T>(what: Promise<T>) => {
        const started = performance.now();
        const value = await what;
        return { value, ms: performance.now() - started };
      };
      const calls = await Promise.all([
        timed(t.api("GET", "/v1/workers", { token: admin })),
        timed(t.api("GET", "/v1/api-keys", { token: admin })),
        timed(
          t.api("POST", "/v1/auth/login", {
            body: { email: "admin@localhost", password: "wrong-password-1" },
          }),
        ),
      ]);
      for (const [i, { value: res, ms }] of calls.entries()) {
        assert.equal(res.status, 503, `call ${i}: ${JSON.stringify(res.body)}`);
        assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
        assert.equal(
          (res.body as { code: string }).code,
          "storage_unavailable",
          `call ${i} after ${ms.toFixed(0)} ms`,
        );
        assert.doesNotMatch(JSON.stringify(res.body), /127\.0\.0\.1|remote_addr|Deadline|timed out/);
        assert.ok(ms < 5000, `answered after ${ms.toFixed(0)} ms`);
      }
      const sentAt = performance.now();
      stream.call.write(makeBatch({ workerId: "w-frozen" }));
      const end = await stream.ended;
      assert.deepEqual([end.code, end.errorCode], [status.UNAVAILABLE, "storage_unavailable"]);
      assert.ok(end.at - sentAt < 5000, `the stream ended after ${(end.at - sentAt).toFixed(0)} ms`);
    } finally {
      ferret.process.kill("SIGCONT");
    }
    await until(
      "the stack answers again",
      async () => (await t.api("GET", "/v1/workers", { token: admin })).status === 200,
    );
  });
});
