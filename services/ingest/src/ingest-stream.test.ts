/** StreamFaces against the real stack: durable acks, replays, validation, authentication, tenant scoping, limits. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  FaceBatch,
  FaceObservation,
  IngestAck,
  type IngestServiceClient,
} from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { freePort } from "@facerec/shared/net.ts";
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
import { Client, credentials, Metadata, type StatusObject, status } from "@grpc/grpc-js";

const DAY_MS = 24 * 60 * 60 * 1000;

type EventsPage = { events: { id: string; batchId: string; embedding?: string }[]; nextPageToken: string };

describe("IngestService.StreamFaces", () => {
  let t: TestStack;
  let client: IngestServiceClient;
  let admin: string;
  let worker: string;
  let metricsPort: number;

  const eventsOf = async (token: string, workerId: string) => {
    const res = await t.api<EventsPage>("GET", `/v1/events?workerId=${workerId}&pageSize=500`, { token });
    assert.equal(res.status, 200);
    return res.body.events;
  };

  before(async () => {
    metricsPort = await freePort();
    t = await startTestStack({
      INGEST_MAX_STREAMS_PER_KEY: "3",
      INGEST_METRICS_PORT: String(metricsPort),
    });
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    admin = await t.login();
    worker = (await keyToken(t, admin)).token;
  });
  after(async () => {
    client.close();
    await t.stop();
  });

  it("acknowledges each batch after storing it; what was sent reads back through GET /v1/events", async () => {
    const stream = new WorkerStream(client, worker);
    const batch = makeBatch({ observations: 3, workerId: "w-readback" });
    batch.observations[0]!.thumbnailJpeg = faceThumbnail();
    const [ack] = await stream.exchange(batch);
    assert.deepEqual(ack, {
      batchId: batch.batchId,
      accepted: 3,
      duplicate: false,
      rejected: false,
      error: "",
      reason: "",
      violations: [],
    });
    assert.equal(
      (await stream.finish()).code,
      status.OK,
      "a half-closed stream ends OK once every ack is out",
    );

    const res = await t.api<EventsPage>("GET", "/v1/events?workerId=w-readback&includeEmbeddings=true", {
      token: admin,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      new Set(res.body.events.map((e) => e.embedding)),
      new Set(batch.observations.map((o) => o.embedding.toString("base64"))),
    );
  });

  it("stores a replayed batch once: every replay after a reconnect is acknowledged as a duplicate", async () => {
    const batches = Array.from({ length: 5 }, () => makeBatch({ workerId: "w-replay" }));
    const first = new WorkerStream(client, worker);
    const acks = await first.exchange(...batches);
    assert.ok(acks.every((a) => a.accepted === 2 && !a.duplicate));
    first.cancel();

    const second = new WorkerStream(client, worker);
    const replayed = await second.exchange(...batches, makeBatch({ workerId: "w-replay", observations: 1 }));
    assert.deepEqual(
      replayed.map((a) => [a.batchId, a.accepted, a.duplicate]),
      [...batches.map((b) => [b.batchId, 0, true]), [replayed[5]!.batchId, 1, false]],
    );
    await second.finish();
    const events = await eventsOf(admin, "w-replay");
    assert.equal(events.length, 11);
    assert.equal(new Set(events.map((e) => e.id)).size, 11);
  });

  it("acknowledges a batch sent twice in a row on one stream as stored, then duplicate, in that order", async () => {
    const batches = Array.from({ length: 10 }, () => makeBatch({ workerId: "w-pipelined" }));
    const stream = new WorkerStream(client, worker);
    // Each copy is written before the first copy's write has finished: the writes race in the store.
    const acks = await stream.exchange(...batches.flatMap((b) => [b, b]));
    assert.deepEqual(
      acks.map((a) => [a.batchId, a.accepted, a.duplicate]),
      batches.flatMap((b) => [
        [b.batchId, 2, false],
        [b.batchId, 0, true],
      ]),
    );
    await stream.finish();
    assert.equal((await eventsOf(admin, "w-pipelined")).length, 20);
  });

  it("rejects each malformed batch with the reason in its ack and keeps the stream open", async () => {
    const now = Date.now();
    const obs = (overrides: Partial<FaceObservation>) => makeObservation(overrides);
    const nan = Buffer.from(obs({}).embedding);
    nan.writeFloatLE(Number.NaN, 7 * 4);
    const infinite = Buffer.from(obs({ embeddingDim: 128 }).embedding);
    infinite.writeFloatLE(Number.POSITIVE_INFINITY, 0);
    const bigJpeg = Buffer.concat([faceThumbnail(), Buffer.alloc(64 * 1024)]);
    bigJpeg.set([0xff, 0xd9], bigJpeg.length - 2);
    const cases: [string, ReturnType<typeof makeBatch>, RegExp | string][] = [
      ["empty batch_id", makeBatch({ batchId: "" }), /^batch_id: must be 1 to 64 characters/],
      ["batch_id with a space", makeBatch({ batchId: "a b" }), /^batch_id: /],
      ["empty worker_id", makeBatch({ workerId: "" }), /^worker_id: must be 1 to 64 characters/],
      ["site_id with a slash", makeBatch({ siteId: "a/b" }), /^site_id: /],
      ["65-character camera_id", makeBatch({ cameraId: "c".repeat(65) }), /^camera_id: /],
      [
        "no observations",
        makeBatch({ observations: [] }),
        "observations: 0 observations; a batch carries 1 to 256",
      ],
      [
        "257 observations",
        makeBatch({ observations: Array.from({ length: 257 }, () => obs({ embeddingDim: 128 })) }),
        /^observations: 257 observations/,
      ],
      [
        "missing captured_at",
        makeBatch({ observations: [obs({ capturedAt: undefined })] }),
        "observations[0].captured_at: missing",
      ],
      [
        "captured_at 10 minutes ahead",
        makeBatch({ observations: [obs({ capturedAt: new Date(now + 10 * 60_000) })] }),
        /^observations\[0\]\.captured_at: .* is more than 5 minutes in the future$/,
      ],
      [
        "captured_at before the retention window",
        makeBatch({ observations: [obs({ capturedAt: new Date(now - 31 * DAY_MS) })] }),
        /^observations\[0\]\.captured_at: .* is older than the 30-day retention window$/,
      ],
      [
        "embedding_dim below the bounds",
        makeBatch({ observations: [obs({ embeddingDim: 32, embedding: Buffer.alloc(128) })] }),
        "observations[0].embedding_dim: 32 is not within 64..2048",
      ],
      [
        "embedding_dim above the bounds",
        makeBatch({ observations: [obs({ embeddingDim: 4096, embedding: Buffer.alloc(16384) })] }),
        "observations[0].embedding_dim: 4096 is not within 64..2048",
      ],
      [
        "embedding shorter than embedding_dim*4",
        makeBatch({ observations: [obs({ embedding: Buffer.alloc(2040) })] }),
        "observations[0].embedding: length 2040 is not embedding_dim*4",
      ],
      [
        "an all-zero embedding",
        makeBatch({ observations: [obs({ embeddingDim: 128, embedding: Buffer.alloc(512) })] }),
        "observations[0].embedding: L2 norm 0.0000 is not 1 (within 0.01); send the L2-normalised vector",
      ],
      [
        "an all-ones embedding",
        makeBatch({
          observations: [
            obs({ embeddingDim: 128, embedding: Buffer.from(new Float32Array(128).fill(1).buffer) }),
          ],
        }),
        "observations[0].embedding: L2 norm 11.3137 is not 1 (within 0.01); send the L2-normalised vector",
      ],
      [
        "NaN in the embedding",
        makeBatch({ observations: [obs({ embedding: nan })] }),
        "observations[0].embedding[7]: NaN is not finite",
      ],
      [
        "Infinity in the embedding",
        makeBatch({ observations: [obs({ embeddingDim: 128, embedding: infinite })] }),
        "observations[0].embedding[0]: Infinity is not finite",
      ],
      [
        "missing bbox",
        makeBatch({ observations: [obs({ bbox: undefined })] }),
        "observations[0].bbox: missing",
      ],
      [
        "negative bbox.x",
        makeBatch({ observations: [obs({ bbox: { x: -1, y: 0, width: 10, height: 10 } })] }),
        "observations[0].bbox.x: must be finite and >= 0",
      ],
      [
        "NaN bbox.y",
        makeBatch({ observations: [obs({ bbox: { x: 0, y: Number.NaN, width: 10, height: 10 } })] }),
        "observations[0].bbox.y: must be finite and >= 0",
      ],
      [
        "zero bbox.width",
        makeBatch({ observations: [obs({ bbox: { x: 0, y: 0, width: 0, height: 10 } })] }),
        "observations[0].bbox.width: must be finite and > 0",
      ],
      [
        "odd number of landmark values",
        makeBatch({ observations: [obs({ landmarks: [1, 2, 3] })] }),
        "observations[0].landmarks: 3 values; x, y pairs expected",
      ],
      [
        "negative landmark",
        makeBatch({ observations: [obs({ landmarks: [1, 2, 3, -4] })] }),
        "observations[0].landmarks[3]: must be finite and >= 0",
      ],
      [
        "infinite landmark",
        makeBatch({ observations: [obs({ landmarks: [Number.POSITIVE_INFINITY, 2] })] }),
        "observations[0].landmarks[0]: must be finite and >= 0",
      ],
      [
        "too many landmarks",
        makeBatch({ observations: [obs({ landmarks: Array.from({ length: 138 }, () => 1) })] }),
        "observations[0].landmarks: 138 values; at most 136",
      ],
      [
        "det_score above 1",
        makeBatch({ observations: [obs({ detScore: 1.5 })] }),
        "observations[0].det_score: 1.5 is not in [0, 1]",
      ],
      [
        "negative quality",
        makeBatch({ observations: [obs({ quality: -0.5 })] }),
        "observations[0].quality: -0.5 is not in [0, 1]",
      ],
      ["empty model", makeBatch({ observations: [obs({ model: "" })] }), /^observations\[0\]\.model: /],
      [
        "thumbnail over 64 KiB",
        makeBatch({ observations: [obs({ thumbnailJpeg: bigJpeg })] }),
        `observations[0].thumbnail_jpeg: ${bigJpeg.length} bytes; at most 64 KiB`,
      ],
      [
        "thumbnail that is a PNG",
        makeBatch({
          observations: [obs({ thumbnailJpeg: Buffer.from("89504e470d0a1a0a0000000d49484452", "hex") })],
        }),
        "observations[0].thumbnail_jpeg: not a JPEG (SOI/EOI markers missing)",
      ],
      [
        "a bad second observation",
        makeBatch({ observations: [obs({}), obs({ detScore: Number.NaN })] }),
        "observations[1].det_score: NaN is not in [0, 1]",
      ],
    ];
    const stream = new WorkerStream(client, worker);
    for (const [name, bad, reason] of cases) {
      const good = makeBatch({ workerId: "w-validation" });
      const [rejected, accepted] = await stream.exchange(bad, good);
      assert.equal(rejected!.batchId, bad.batchId, name);
      assert.equal(rejected!.rejected, true, name);
      assert.equal(rejected!.accepted, 0, name);
      if (typeof reason === "string") assert.equal(rejected!.error, reason, name);
      else assert.match(rejected!.error, reason, name);
      // The same, for programs: a stable reason and the violation's field and description.
      assert.equal(rejected!.reason, "invalid_batch", name);
      assert.deepEqual(
        rejected!.violations.map((v) => `${v.field}: ${v.description}`),
        [rejected!.error],
        name,
      );
      assert.deepEqual(
        [accepted!.accepted, accepted!.rejected],
        [2, false],
        `the stream goes on after: ${name}`,
      );
    }
    assert.equal((await stream.finish()).code, status.OK);
    assert.equal(
      (await eventsOf(admin, "w-validation")).length,
      cases.length * 2,
      "rejected batches store nothing",
    );
  });

  it("lists every violation of a batch, not just the first, each with its field", async () => {
    const stream = new WorkerStream(client, worker);
    const bad = makeBatch({
      siteId: "a/b",
      observations: [
        makeObservation({ detScore: 2, quality: -1 }),
        makeObservation({}),
        makeObservation({ bbox: undefined, landmarks: [1] }),
      ],
    });
    const [ack] = await stream.exchange(bad);
    assert.equal(ack!.reason, "invalid_batch");
    assert.deepEqual(
      ack!.violations.map((v) => v.field),
      [
        "site_id",
        "observations[0].det_score",
        "observations[0].quality",
        "observations[2].bbox",
        "observations[2].landmarks",
      ],
    );
    assert.match(ack!.error, /^site_id: .*; observations\[0\]\.det_score: 2 is not in \[0, 1\]; /);
    await stream.finish();
  });

  it("treats batch_id as an idempotency key: other content under a stored id is refused, storing nothing", async () => {
    const stream = new WorkerStream(client, worker);
    const first = makeBatch({ workerId: "w-conflict-a", observations: 2 });
    const reused = { ...makeBatch({ workerId: "w-conflict-b", observations: 5 }), batchId: first.batchId };
    const [stored, conflict, replay, conflictAgain] = await stream.exchange(first, reused, first, reused);
    assert.deepEqual([stored!.accepted, stored!.duplicate, stored!.rejected], [2, false, false]);
    for (const refused of [conflict!, conflictAgain!]) {
      assert.deepEqual([refused.rejected, refused.accepted, refused.reason], [true, 0, "batch_id_conflict"]);
      assert.deepEqual(
        refused.violations.map((v) => v.field),
        ["batch_id"],
      );
    }
    assert.deepEqual([replay!.accepted, replay!.duplicate, replay!.rejected], [0, true, false]);
    await stream.finish();
    assert.equal((await eventsOf(admin, "w-conflict-a")).length, 2);
    assert.equal((await eventsOf(admin, "w-conflict-b")).length, 0, "nothing of the conflicting batch");
  });

  it("answers a frame_seq or track_id beyond 2^53 - 1 with a rejected ack; the stream stays open and the replay is rejected alike", async () => {
    // The generated client cannot even encode such values as numbers: the bytes are built by hand,
    // as a worker in another language would send them.
    const withUint64 = (batch: FaceBatch, index: number, field: number, value: bigint) => {
      const writer = new BinaryWriter();
      FaceBatch.encode({ ...batch, observations: [] }, writer);
      for (const [i, observation] of batch.observations.entries()) {
        const inner = FaceObservation.encode(observation);
        // A repeated scalar field: the last occurrence wins, so this overrides the encoded value.
        if (i === index) inner.uint32((field << 3) | WireType.Varint).uint64(value);
        writer.uint32((5 << 3) | WireType.LengthDelimited).bytes(inner.finish());
      }
      return Buffer.from(writer.finish());
    };
    const raw = new Client(`127.0.0.1:${t.stack.ports.ingest}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${worker}`);
    const call = raw.makeBidiStreamRequest(
      "/facerec.ingest.v1.IngestService/StreamFaces",
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => IngestAck.decode(bytes),
      metadata,
    );
    const acks: IngestAck[] = [];
    const ended = new Promise<StatusObject>((resolve) => call.on("status", resolve));
    call.on("error", () => {});
    call.on("data", (ack: IngestAck) => acks.push(ack));
    try {
      const frameSeq = makeBatch({ observations: 2, workerId: "w-uint64" });
      const trackId = makeBatch({ observations: 3, workerId: "w-uint64" });
      const boundary = makeBatch({ observations: [makeObservation({ frameSeq: Number.MAX_SAFE_INTEGER })] });
      const good = makeBatch({ workerId: "w-uint64" });
      const sent = [
        withUint64(frameSeq, 1, 2, 2n ** 64n - 1n),
        withUint64(trackId, 2, 10, 2n ** 53n),
        // The worker replays what was not acknowledged: the same answer, not a broken stream.
        withUint64(frameSeq, 1, 2, 2n ** 64n - 1n),
        Buffer.from(FaceBatch.encode(boundary).finish()),
        Buffer.from(FaceBatch.encode(good).finish()),
      ];
      for (const bytes of sent) call.write(bytes);
      await until("every batch is acknowledged", () => acks.length === sent.length);
      assert.deepEqual(
        acks.map((a) => [a.batchId, a.rejected, a.error]),
        [
          [
            frameSeq.batchId,
            true,
            "observations[1].frame_seq: 18446744073709551615 is above 2^53 - 1, the largest value this server stores exactly",
          ],
          [
            trackId.batchId,
            true,
            "observations[2].track_id: 9007199254740992 is above 2^53 - 1, the largest value this server stores exactly",
          ],
          [
            frameSeq.batchId,
            true,
            "observations[1].frame_seq: 18446744073709551615 is above 2^53 - 1, the largest value this server stores exactly",
          ],
          [boundary.batchId, false, ""],
          [good.batchId, false, ""],
        ],
      );
      call.end();
      assert.equal((await ended).code, status.OK, "the stream ends only when the worker ends it");
    } finally {
      raw.close();
    }
  });

  it("ends the stream with UNAUTHENTICATED for a missing, malformed or tampered token", async () => {
    const [header, payload, signature] = worker.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { tid: string };
    const tampered = Buffer.from(JSON.stringify({ ...claims, tid: "t-other" })).toString("base64url");
    for (const [name, token, code] of [
      ["missing", undefined, "missing_token"],
      ["not a JWT", "not-a-jwt-at-all", "invalid_token"],
      ["not one bearer token", "two words", "invalid_token"],
      ["tampered payload", `${header}.${tampered}.${signature}`, "invalid_token"],
    ] as const) {
      const stream = new WorkerStream(client, token);
      await stream.send(makeBatch());
      const end = await stream.ended;
      assert.deepEqual([end.code, end.errorCode], [status.UNAUTHENTICATED, code], name);
      // The same code in the rich error model, for libraries that read google.rpc.Status.
      assert.deepEqual(
        [end.errorInfo?.reason, end.errorInfo?.domain],
        [code, "facerec.dev"],
        `${name}: ErrorInfo`,
      );
      assert.equal(stream.acks.length, 0, `${name}: nothing is acknowledged`);
    }
  });

  it("ends the stream with PERMISSION_DENIED for valid tokens of other roles", async () => {
    const viewer = (await keyToken(t, admin, { role: "viewer" })).token;
    for (const [name, token] of [
      ["viewer key", viewer],
      ["admin user", admin],
    ] as const) {
      const end = await new WorkerStream(client, token).ended;
      assert.deepEqual([end.code, end.errorCode], [status.PERMISSION_DENIED, "forbidden"], name);
    }
  });

  it("closes an open stream with UNAUTHENTICATED when its token expires, and refuses the expired token", async () => {
    const expiresAt = new Date(Date.now() + 4000).toISOString();
    const { token } = await keyToken(t, admin, { expiresAt });
    const exp = (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number })
      .exp;
    const stream = new WorkerStream(client, token);
    await stream.exchange(makeBatch({ workerId: "w-expiry" }));
    const end = await stream.ended;
    const lateMs = Date.now() - exp * 1000;
    assert.deepEqual([end.code, end.errorCode], [status.UNAUTHENTICATED, "token_expired"]);
    assert.ok(lateMs >= 0 && lateMs < 1000, `closed ${lateMs} ms after exp`);
    const again = await new WorkerStream(client, token).ended;
    assert.equal(again.code, status.UNAUTHENTICATED);
  });

  it("takes the tenant from the token: tenant B's batches land in B, even with A's batch ids", async () => {
    const adminB = await t.createTenant("t-beta");
    const workerB = (await keyToken(t, adminB, { tenantId: "t-beta" })).token;
    const shared = makeBatch({ workerId: "w-shared" });
    const a = new WorkerStream(client, worker);
    const b = new WorkerStream(client, workerB);
    assert.equal((await a.exchange(shared))[0]!.accepted, 2);
    const [ackB] = await b.exchange({ ...shared, observations: [makeObservation()] });
    assert.deepEqual(
      [ackB!.accepted, ackB!.duplicate],
      [1, false],
      "a batch id is unique per tenant, not globally",
    );
    await Promise.all([a.finish(), b.finish()]);
    const inA = await eventsOf(admin, "w-shared");
    const inB = await eventsOf(adminB, "w-shared");
    assert.equal(inA.length, 2);
    assert.equal(inB.length, 1);
    assert.ok(!inA.some((e) => inB.some((f) => f.id === e.id)));
  });

  it("refuses a stream over the per-key cap with RESOURCE_EXHAUSTED, and admits one after a close", async () => {
    const open = Array.from({ length: 3 }, () => new WorkerStream(client, worker));
    await Promise.all(open.map((s) => s.exchange(makeBatch())));
    const fourth = await new WorkerStream(client, worker).ended;
    assert.deepEqual(
      [fourth.code, fourth.errorCode],
      [status.RESOURCE_EXHAUSTED, "too_many_streams_for_key"],
    );
    await open[0]!.finish();
    const replacement = new WorkerStream(client, worker);
    assert.equal((await replacement.exchange(makeBatch()))[0]!.accepted, 2);
    await Promise.all([replacement, ...open.slice(1)].map((s) => s.finish()));
  });

  it("rejects a contract-valid batch over 4 MiB by its ack, saying to split it, and keeps the stream open", async () => {
    // 256 observations with 60 KiB thumbnails (each valid: at most 64 KiB): about 15.5 MiB encoded.
    const thumbnailJpeg = Buffer.concat([faceThumbnail(), Buffer.alloc(60 * 1024)]);
    thumbnailJpeg.set([0xff, 0xd9], thumbnailJpeg.length - 2);
    const huge = makeBatch({
      observations: Array.from({ length: 256 }, () => makeObservation({ thumbnailJpeg })),
    });
    const stream = new WorkerStream(client, worker);
    const [rejected, accepted] = await stream.exchange(huge, makeBatch({}));
    assert.deepEqual([rejected!.batchId, rejected!.rejected, rejected!.accepted], [huge.batchId, true, 0]);
    assert.match(
      rejected!.error,
      /^batch: \d+ bytes encoded; a batch is at most 4194304 bytes \(4 MiB\): split it/,
    );
    assert.deepEqual([accepted!.rejected, accepted!.accepted], [false, 2]);
    await stream.finish();
  });

  it("ends the stream with RESOURCE_EXHAUSTED for a message over 20 MiB, which no valid batch reaches", async () => {
    const stream = new WorkerStream(client, worker);
    const oversized = makeBatch({});
    oversized.batchId = "x".repeat(21 * 1024 * 1024);
    await stream.send(oversized);
    const end = await stream.ended;
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
  });

  it("exports Prometheus metrics for batches by outcome, open streams and the gallery followed", async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    assert.ok(value(/facerec_ingest_batches_total\{outcome="stored"\} (\d+)/) >= 20);
    assert.ok(value(/facerec_ingest_batches_total\{outcome="duplicate"\} (\d+)/) >= 5);
    assert.ok(value(/facerec_ingest_batches_total\{outcome="rejected"\} (\d+)/) >= 28);
    assert.equal(value(/facerec_ingest_open_streams (\d+)/), 0);
    // Following the people service's gallery, which no test here enrols a face in.
    assert.equal(value(/facerec_ingest_gallery_synced (\d+)/), 1);
    assert.equal(value(/facerec_ingest_gallery_faces (\d+)/), 0);
  });
});
