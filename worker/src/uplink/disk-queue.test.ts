import assert from "node:assert/strict";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { DiskQueue } from "./disk-queue.ts";

const batch = (id: string, faces = 1): FaceBatch => ({
  batchId: id,
  workerId: "w",
  siteId: "s",
  cameraId: "c",
  observations: Array.from({ length: faces }, (_, i) => ({
    capturedAt: new Date(1_700_000_000_000 + i),
    frameSeq: i,
    bbox: { x: 1, y: 2, width: 3, height: 4 },
    landmarks: [1, 2],
    detScore: 0.9,
    embedding: Buffer.alloc(512 * 4, 1),
    embeddingDim: 512,
    model: "m",
    quality: 0.5,
    trackId: 0,
    thumbnailJpeg: Buffer.alloc(0),
  })),
});

describe("DiskQueue", () => {
  it("keeps batches across a restart, in order, until they are removed", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "queue-"));
    const q = await DiskQueue.open(dir, 10 << 20);
    for (const id of ["b1", "b2", "b3"]) await q.enqueue(batch(id));
    await q.remove("b2");
    const reopened = await DiskQueue.open(dir, 10 << 20);
    assert.deepEqual(
      reopened.pending().map((e) => e.batchId),
      ["b1", "b3"],
    );
    assert.equal(reopened.bytes, q.bytes);
    const read = await reopened.read(reopened.pending()[1]!);
    assert.equal(read.batchId, "b3");
    assert.equal(read.observations[0]!.embedding.length, 2048);
    await reopened.enqueue(batch("b4"));
    assert.deepEqual(
      reopened.pending().map((e) => e.batchId),
      ["b1", "b3", "b4"],
      "new batches sort after old ones",
    );
  });

  it("discards a half-written batch left by a crash", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "queue-"));
    const q = await DiskQueue.open(dir, 10 << 20);
    await q.enqueue(batch("ok"));
    await writeFile(path.join(dir, "0000000000000001-torn.pb.tmp"), "partial");
    const reopened = await DiskQueue.open(dir, 10 << 20);
    assert.deepEqual(
      reopened.pending().map((e) => e.batchId),
      ["ok"],
    );
    assert.deepEqual(await readdir(dir), ["0000000000000000-ok.pb"]);
  });

  it("makes enqueue wait while the byte budget is spent, and resume when a batch is acknowledged", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "queue-"));
    const one = (
      await (await DiskQueue.open(await mkdtemp(path.join(tmpdir(), "probe-")), 1 << 20)).enqueue(batch("x"))
    ).bytes;
    const q = await DiskQueue.open(dir, one * 2);
    await q.enqueue(batch("a"));
    await q.enqueue(batch("b"));
    let third = false;
    const pending = q.enqueue(batch("c")).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(third, false, "waits while full");
    await q.remove("a");
    await pending;
    assert.deepEqual(
      q.pending().map((e) => e.batchId),
      ["b", "c"],
    );
  });
});
