/** Revocation timing and flow control of StreamFaces against the real stack. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { processMemory } from "@facerec/shared/stack/process-stats.ts";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  ingestClient,
  keyToken,
  makeBatch,
  makeObservation,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { status } from "@grpc/grpc-js";
import mongoose, { type Connection } from "mongoose";
import { findStoredEvents } from "./event-store.ts";

describe("StreamFaces resilience", () => {
  let t: TestStack;
  let client: IngestServiceClient;
  let admin: string;
  let database: Connection;
  before(async () => {
    t = await startTestStack();
    // Read straight from the ingest service's collection: what is stored is what the test is about.
    database = await mongoose.createConnection(t.stack.database.url, { dbName: t.dbName }).asPromise();
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    admin = await t.login();
  });
  after(async () => {
    client.close();
    await database.close();
    await t.stop();
  });

  it("closes an open stream with UNAUTHENTICATED within 1 s of its key being deactivated or deleted (20 trials)", async (ctx) => {
    const delays: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const { keyId, token } = await keyToken(t, admin);
      const stream = new WorkerStream(client, token);
      await stream.exchange(makeBatch());
      const revokedAt = performance.now();
      const res =
        trial % 2 === 0
          ? await t.api("PATCH", `/v1/api-keys/${keyId}`, { token: admin, body: { active: false } })
          : await t.api("DELETE", `/v1/api-keys/${keyId}`, { token: admin });
      assert.ok(res.status === 200 || res.status === 204);
      const end = await stream.ended;
      assert.deepEqual([end.code, end.errorCode], [status.UNAUTHENTICATED, "token_revoked"]);
      delays.push(end.at - revokedAt);
      const reopened = await new WorkerStream(client, token).ended;
      assert.equal(reopened.errorCode, "token_revoked", "the revoked key's token cannot open a new stream");
    }
    const max = Math.max(...delays);
    ctx.diagnostic(
      `revocation → stream closed: max ${max.toFixed(0)} ms, median ${delays.sort((a, b) => a - b)[10]!.toFixed(0)} ms`,
    );
    assert.ok(max < 1000, `slowest close took ${max.toFixed(0)} ms`);
  });

  it("stops reading from a client that stops reading acks, so server memory stays bounded", async (ctx) => {
    const { token } = await keyToken(t, admin);
    const pid = t.stack.pid("ingest")!;
    const before = await processMemory(pid);
    const stream = new WorkerStream(client, token, { readAcks: false });
    const total = 10_000;
    // Small batches with the longest batch ids: the most ack bytes per stored observation.
    const longId = () => `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
    const small = () =>
      makeBatch({
        batchId: longId(),
        workerId: "w-stalled",
        observations: [makeObservation({ embeddingDim: 128 })],
      });
    // Write everything without waiting for drain: the client buffers what the server will not take.
    for (let i = 0; i < total; i++) stream.call.write(small());

    const stored = async () => (await findStoredEvents(database.db!, { workerId: "w-stalled" })).length;
    let previous = -1;
    let plateau = await stored();
    for (let i = 0; i < 30 && plateau !== previous; i++) {
      await new Promise((r) => setTimeout(r, 500));
      previous = plateau;
      plateau = await stored();
    }
    const during = await processMemory(pid);
    assert.equal(plateau, previous, "the server stopped taking batches");
    assert.ok(plateau < total / 2, `the server stopped early (${plateau} of ${total} stored)`);
    assert.ok(during.rss - before.rss < 64 * 1024 * 1024, `RSS grew ${(during.rss - before.rss) >> 20} MiB`);
    ctx.diagnostic(
      `stalled after ${plateau} of ${total} batches; ingest RSS +${(during.rss - before.rss) >> 20} MiB`,
    );

    stream.readAcks();
    const acks = await stream.waitForAcks(plateau + 200, 30_000);
    assert.ok(
      acks.every((a) => a.accepted === 1),
      "the server goes on once the client reads again",
    );
    stream.cancel();
  });
});
