/**
 * Deliveries against a real database and a real HTTP receiver on 127.0.0.1: signed so a receiver
 * verifies them, retried after a 500 with backoff until a 2xx, durable across a dispatcher that is
 * closed mid-retry or mid-attempt and started again on a fresh connection, `failed` after the retry
 * window; and the WebhooksService over real gRPC refusing a loopback URL when private targets are
 * not allowed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { WebhooksServiceClient } from "@facerec/proto/facerec/internal/webhooks/v1/webhooks.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { callUnary, internalClient } from "@facerec/shared/grpc/clients.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { WebhookReceiver } from "@facerec/shared/test-support/webhook-receiver.ts";
import type { Connection } from "mongoose";
import { Registry } from "prom-client";
import { AuditTrail } from "../audit-trail.ts";
import { createWebhookMetrics, type WebhookMetrics } from "../metrics.ts";
import { WebhookDispatcher } from "./dispatcher.ts";
import { webhookBindings } from "./grpc-handlers.ts";
import { type DeliveryDoc, type WebhookModels, webhookModels } from "./models.ts";
import { systemActor } from "./sighting-source.ts";
import { newWebhookSecret, verifySignature } from "./signature.ts";
import { WebhookUrlPolicy } from "./url-policy.ts";
import { eventIdOf, Webhooks } from "./webhooks.ts";

const log = createLogger("webhooks-test", "warn");
const TENANT = "t-webhooks";

describe("webhook deliveries", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: WebhookModels;
  let webhooks: Webhooks;
  const receiver = new WebhookReceiver();
  let url: string;
  const policy = new WebhookUrlPolicy({ allowPrivate: true });
  // Nothing in these tests records audit events (webhooks are inserted as stored): no keys service.
  const audit = new AuditTrail(internalClient(AuditServiceClient, "127.0.0.1:1"));
  const retry = { baseMs: 200, maxMs: 400, windowMs: 60_000 };

  const dispatcher = (
    m: WebhookModels,
    overrides: {
      timeoutMs?: number;
      windowMs?: number;
      policy?: WebhookUrlPolicy;
      metrics?: WebhookMetrics;
    } = {},
  ) =>
    new WebhookDispatcher({
      models: m,
      policy: overrides.policy ?? policy,
      log,
      retry: { ...retry, windowMs: overrides.windowMs ?? retry.windowMs },
      timeoutMs: overrides.timeoutMs ?? 2000,
      pollMs: 100,
      metrics: overrides.metrics ?? createWebhookMetrics(new Registry()),
    });

  /** A counter's value for these labels (0 when never counted). */
  async function counted(
    counter: {
      get(): Promise<{ values: { labels: Partial<Record<string, string | number>>; value: number }[] }>;
    },
    labels: Record<string, string>,
  ) {
    const { values } = await counter.get();
    const found = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
    return found?.value ?? 0;
  }

  async function addWebhook(secret = newWebhookSecret(), target = url) {
    const id = crypto.randomUUID();
    await models.webhooks.create({
      _id: id,
      tenantId: TENANT,
      url: target,
      eventTypes: ["sighting.started", "api_key.expiring"],
      secret,
      createdAt: new Date(Date.now() - 60_000),
      createdBy: "test",
    });
    return { id, secret };
  }

  const event = (sourceId: string) => ({
    type: "sighting.started" as const,
    tenantId: TENANT,
    sourceId,
    occurredAt: new Date(),
    data: { sighting: { id: sourceId } },
  });

  const deliveryOf = (webhookId: string) =>
    models.deliveries.findOne({ webhookId }).lean<DeliveryDoc>() as Promise<DeliveryDoc>;

  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await webhookModels(connection);
    webhooks = new Webhooks({ models, policy, audit });
    url = await receiver.listen();
  });
  after(async () => {
    await receiver.close();
    await connection?.close();
    await db?.stop();
  });

  it("retries after a 500 with backoff until a 2xx, each attempt signed so the receiver verifies it", async () => {
    receiver.statuses = [500, 500, 200];
    const { id, secret } = await addWebhook();
    const metrics = createWebhookMetrics(new Registry());
    const sending = dispatcher(models, { metrics });
    sending.start();
    try {
      const before = receiver.received.length;
      assert.equal(await webhooks.enqueue(event("s-retry"), new Date()), 1);
      // Written before any attempt, so it is there even if the process died now.
      assert.equal((await deliveryOf(id)).status, "pending");
      const done = await until("the delivery succeeded", async () => {
        const d = await deliveryOf(id);
        return d.status === "succeeded" && d;
      });
      assert.equal(done.attempts, 3);
      assert.equal(done.lastStatusCode, 200);
      assert.equal(done.lastResponseExcerpt, "answer 200");
      const attempts = receiver.received.slice(before);
      assert.equal(attempts.length, 3);
      const eventId = eventIdOf(event("s-retry"));
      for (const attempt of attempts) {
        assert.equal(attempt.headers["facerec-event-id"], eventId, "the same event id on every attempt");
        assert.equal(attempt.headers["facerec-event-type"], "sighting.started");
        assert.ok(verifySignature(attempt.headers["facerec-signature"] as string, attempt.body, secret));
        assert.equal(JSON.parse(attempt.body).id, eventId);
      }
      assert.ok(
        !verifySignature(
          attempts[0]!.headers["facerec-signature"] as string,
          attempts[0]!.body,
          newWebhookSecret(),
        ),
      );
      // Re-finding the same event (a rescan, another replica) adds nothing.
      assert.equal(await webhooks.enqueue(event("s-retry"), new Date()), 0);
      const type = { event_type: "sighting.started" };
      const figures = async () => [
        await counted(metrics.attempts, { ...type, answer: "5xx" }),
        await counted(metrics.attempts, { ...type, answer: "2xx" }),
        await counted(metrics.settled, { ...type, status: "succeeded" }),
        (await metrics.attemptSeconds.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value,
      ];
      // Counted once the status is written, which the test may have read a moment earlier.
      await until("the attempts counted", async () => (await figures())[2] === 1);
      assert.deepEqual(
        await figures(),
        [2, 1, 1, 3],
        "attempts by answer, the delivery settled once, three attempts timed",
      );
    } finally {
      await sending.stop();
    }
  });

  it("completes a delivery after its dispatcher is closed mid-retry and another starts on a new connection", async () => {
    receiver.statuses = [500];
    const { id } = await addWebhook();
    const first = dispatcher(models);
    first.start();
    await webhooks.enqueue(event("s-restart"), new Date());
    await until("a first attempt failed", async () => (await deliveryOf(id)).attempts >= 1);
    await first.stop();
    await connection.close();
    const attemptsBefore = receiver.received.length;
    receiver.statuses = [200];

    connection = await connectDatabase(db.url, db.dbName);
    models = await webhookModels(connection);
    webhooks = new Webhooks({ models, policy, audit });
    const second = dispatcher(models);
    second.start();
    try {
      const done = await until("the delivery succeeded after the restart", async () => {
        const d = await deliveryOf(id);
        return d.status === "succeeded" && d;
      });
      assert.ok(done.attempts >= 2);
      assert.ok(receiver.received.length > attemptsBefore);
    } finally {
      await second.stop();
    }
  });

  it("sends again an attempt that was under way when its dispatcher stopped, once the attempt's lease ends", async () => {
    receiver.hold = true;
    const { id } = await addWebhook();
    const first = dispatcher(models, { timeoutMs: 500 });
    first.start();
    const before = receiver.received.length;
    await webhooks.enqueue(event("s-in-flight"), new Date());
    await until("the attempt reached the receiver", () => receiver.received.length > before);
    await first.stop(); // as a kill would: nothing recorded about the attempt
    assert.equal((await deliveryOf(id)).attempts, 0);
    receiver.hold = false;
    receiver.statuses = [204];
    const second = dispatcher(models, { timeoutMs: 500 });
    second.start();
    try {
      const done = await until(
        "the abandoned attempt was made again",
        async () => {
          const d = await deliveryOf(id);
          return d.status === "succeeded" && d;
        },
        15_000,
      );
      assert.equal(done.lastStatusCode, 204);
    } finally {
      await second.stop();
    }
  });

  it("gives up as failed when the retry window has passed, keeping the last answer", async () => {
    receiver.statuses = [503];
    const { id } = await addWebhook();
    const metrics = createWebhookMetrics(new Registry());
    const sending = dispatcher(models, { windowMs: 1500, metrics });
    sending.start();
    try {
      await webhooks.enqueue(event("s-fail"), new Date());
      const failed = await until("the delivery failed", async () => {
        const d = await deliveryOf(id);
        return d.status === "failed" && d;
      });
      assert.ok(failed.attempts >= 2, `attempts: ${failed.attempts}`);
      assert.equal(failed.lastStatusCode, 503);
      assert.equal(failed.nextAttemptAt, null);
      // Counted once the status is written, which the test may have read a moment earlier (and
      // deliveries earlier tests left pending may fail here too).
      const labels = { event_type: "sighting.started", status: "failed" };
      await until("the failure counted", async () => (await counted(metrics.settled, labels)) >= 1);
    } finally {
      await sending.stop();
    }
  });

  it("connects to the address it resolved and checked, sending the host name as Host", async () => {
    receiver.statuses = [200];
    const port = new URL(url).port;
    // A name only this resolver knows: reaching the receiver proves the attempt used the checked address.
    const pinned = new WebhookUrlPolicy({
      allowPrivate: true,
      lookup: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const { id } = await addWebhook(newWebhookSecret(), `http://receiver.test:${port}/hooks`);
    const sending = dispatcher(models, { policy: pinned });
    sending.start();
    try {
      await webhooks.enqueue(event("s-pinned"), new Date());
      await until("the delivery succeeded", async () => (await deliveryOf(id)).status === "succeeded");
      // (The tenant's other webhooks get the event too, at the receiver's own address.)
      const viaName = receiver.received.filter((r) => r.headers.host === `receiver.test:${port}`);
      assert.equal(viaName.length, 1);
    } finally {
      await sending.stop();
    }
  });

  it("checks the address again at each attempt: a host that now resolves to loopback gets nothing (DNS rebinding)", async () => {
    const port = new URL(url).port;
    const rebound = new WebhookUrlPolicy({
      allowPrivate: false,
      lookup: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const { id } = await addWebhook(newWebhookSecret(), `https://hooks.rebind.test:${port}/hooks`);
    const sending = dispatcher(models, { policy: rebound });
    sending.start();
    try {
      const before = receiver.received.length;
      await webhooks.enqueue(event("s-rebind"), new Date());
      const refused = await until("the attempt was refused", async () => {
        const d = await deliveryOf(id);
        return d.attempts >= 1 && d;
      });
      assert.equal(refused.status, "pending");
      assert.equal(refused.lastStatusCode, 0);
      assert.match(refused.lastResponseExcerpt, /^not sent: .*127\.0\.0\.1.*not a public address/);
      assert.equal(receiver.received.length, before, "nothing reached the loopback receiver");
    } finally {
      await sending.stop();
    }
  });

  it("refuses a loopback URL over gRPC when private targets are not allowed", async () => {
    const strict = new Webhooks({ models, policy: new WebhookUrlPolicy({ allowPrivate: false }), audit });
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      services: [webhookBindings({ webhooks: strict, onChange: () => {}, log })],
      log,
    });
    const client = internalClient(WebhooksServiceClient, `127.0.0.1:${server.port}`);
    try {
      for (const target of [
        "https://127.0.0.1/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://localhost/hooks",
      ]) {
        await assert.rejects(
          callUnary(client.createWebhook.bind(client), {
            actor: systemActor(TENANT),
            url: target,
            eventTypes: ["sighting.started"],
            watchlistOnly: false,
            description: "",
          }),
          (err: { code?: string }) => err.code === "webhook_url_not_allowed",
          target,
        );
      }
      await assert.rejects(
        callUnary(client.createWebhook.bind(client), {
          actor: systemActor(TENANT),
          url: url,
          eventTypes: ["sighting.started"],
          watchlistOnly: false,
          description: "",
        }),
        (err: { code?: string }) => err.code === "webhook_url_not_allowed",
        "http is refused too",
      );
    } finally {
      client.close();
      await server.close();
    }
  });
});
