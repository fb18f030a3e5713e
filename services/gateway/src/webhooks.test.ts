/**
 * Webhooks end to end with real parts: the real stack (WEBHOOK_ALLOW_PRIVATE=true, as development
 * runs it), a real receiver on 127.0.0.1, and sightings started by streaming faces through real
 * ingest. Registration through REST (admins only, secret once, audited, tenants apart), deliveries
 * whose signature the receiver checks the way the README tells integrators to, retries after a 500,
 * a people service killed mid-retry and one down while a sighting starts (nothing lost), and
 * api_key.expiring from the keys service's expiry announcement.
 */
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
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
import { type ReceivedDelivery, WebhookReceiver } from "@facerec/shared/test-support/webhook-receiver.ts";
import { alignFace } from "@facerec/worker/src/aligner.ts";
import { BlazeFaceDetector } from "@facerec/worker/src/detectors/blazeface.ts";
import { openEmbedder } from "@facerec/worker/src/embedders/index.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { identityPhotos } from "@facerec/worker/src/test-support/face-datasets.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { decodeImage } from "@facerec/worker/src/test-support/photos.ts";
import { placeFace } from "@facerec/worker/tools/eval/identity-eval.ts";

type Webhook = { id: string; url: string; eventTypes: string[]; watchlistOnly: boolean; description: string };
type Delivery = {
  id: string;
  eventId: string;
  eventType: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastResponseExcerpt: string;
  nextAttemptAt: string | null;
};
type Problem = { status: number; code: string };

/**
 * One person of dlib's examples/johns: a photo to enrol, and the worker's dlib embeddings of two
 * other photos of them (what a worker streams when they walk past a camera).
 */
async function personPhotos(): Promise<{ enrol: string; probes: Buffer[] }> {
  requireModel(MODELS.dlib);
  requireModel(MODELS.blazefaceBack);
  const own = [
    ...Map.groupBy(
      identityPhotos().filter((p) => p.file.includes("/johns/")),
      (p) => p.identity,
    ).values(),
  ][0]!;
  const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
  const embedder = await openEmbedder("dlib", TEST_MODELS_DIR);
  try {
    const probes: Buffer[] = [];
    for (const photo of own.slice(3, 5)) {
      const placed = await placeFace(detector, decodeImage(photo.file), 150);
      assert.ok(placed, `a face in ${photo.file}`);
      const [vector] = await embedder.embed([alignFace(placed.frame, placed.face.landmarks, embedder.crop)]);
      probes.push(Buffer.from(vector!.buffer, vector!.byteOffset, vector!.byteLength));
    }
    return { enrol: own[0]!.file, probes };
  } finally {
    await Promise.all([detector.close(), embedder.close()]);
  }
}

/** What the README tells a receiver to do: recompute the HMAC of "<t>.<raw body>", compare in constant time, check t. */
function receiverVerifies(delivery: ReceivedDelivery, secret: string, toleranceSeconds = 300): boolean {
  const header = String(delivery.headers["facerec-signature"] ?? "");
  const fields = header.split(",").map((kv) => kv.split("=") as [string, string]);
  const t = Number(fields.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${delivery.body}`).digest();
  return fields
    .filter(([k]) => k === "v1")
    .some(([, v]) => {
      const given = Buffer.from(v, "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe("webhooks", () => {
  let t: TestStack;
  let metricsPort: number;
  let admin: string;
  let viewer: string;
  let ingest: IngestServiceClient;
  let stream: WorkerStream;
  const receiver = new WebhookReceiver();
  let receiverUrl: string;
  let sightingsHook: { webhook: Webhook; secret: string };
  let expiringHook: { webhook: Webhook; secret: string };
  let expiringKeyId: string;
  let watchlistHook: Webhook;
  let person: { enrol: string; probes: Buffer[] };
  let camera = 0;

  /** Starts a new sighting (a new track at a new camera) through the real ingest stream. */
  async function startSighting(): Promise<string> {
    camera += 1;
    const cameraId = `cam-webhooks-${camera}`;
    const [ack] = await stream.exchange(
      makeBatch({
        cameraId,
        observations: [makeObservation({ trackId: camera, thumbnailJpeg: faceThumbnail() })],
      }),
    );
    assert.equal(ack?.accepted, 1);
    return cameraId;
  }

  const sightingDeliveriesFor = (cameraId: string) =>
    receiver.ofType("sighting.started").filter((r) => JSON.parse(r.body).data.sighting.cameraId === cameraId);

  const deliveries = async (webhookId: string) =>
    (
      await t.api<{ deliveries: Delivery[] }>("GET", `/v1/webhooks/${webhookId}/deliveries`, {
        token: viewer,
      })
    ).body.deliveries;

  async function create(body: Record<string, unknown>, token = admin) {
    return t.api<{ webhook: Webhook; secret: string } & Problem>("POST", "/v1/webhooks", { token, body });
  }

  before(async () => {
    metricsPort = await freePort();
    person = await personPhotos();
    receiverUrl = await receiver.listen();
    t = await startTestStack({
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_RETRY_BASE_MS: "300",
      WEBHOOK_RETRY_MAX_MS: "1000",
      WEBHOOK_POLL_MS: "200",
      WEBHOOK_SCAN_MS: "1000",
      PEOPLE_METRICS_PORT: String(metricsPort),
    });
    admin = await t.login();
    viewer = (await keyToken(t, admin, { role: "viewer" })).token;
    ingest = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(ingest);
    stream = new WorkerStream(ingest, (await keyToken(t, admin)).token);
    // First, as the keys service announces expirations once a minute: a key expiring in 2 days.
    const expiring = await create({ url: `${receiverUrl}?expiring`, eventTypes: ["api_key.expiring"] });
    assert.equal(expiring.status, 201, JSON.stringify(expiring.body));
    expiringHook = expiring.body;
    expiringKeyId = (
      await t.createKey(admin, {
        role: "worker",
        expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
      })
    ).id;
  });
  after(async () => {
    stream?.cancel();
    ingest?.close();
    await t?.stop();
    await receiver.close();
  });

  it("registers a webhook for admins only, shows its secret once, lists it without, and audits it", async () => {
    const refused = await create({ url: receiverUrl, eventTypes: ["sighting.started"] }, viewer);
    assert.equal(refused.status, 403);

    const created = await create({
      url: receiverUrl,
      eventTypes: ["sighting.started"],
      description: "front desk",
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get("cache-control"), "no-store");
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(created.body.webhook.eventTypes, ["sighting.started"]);
    sightingsHook = created.body;

    const listed = await t.api<{ webhooks: Record<string, unknown>[] }>("GET", "/v1/webhooks", {
      token: viewer,
    });
    assert.equal(listed.status, 200);
    assert.ok(listed.body.webhooks.some((w) => w.id === sightingsHook.webhook.id));
    assert.ok(!JSON.stringify(listed.body).includes(sightingsHook.secret), "the list carries no secret");
    const one = await t.api<{ webhook: Webhook }>("GET", `/v1/webhooks/${sightingsHook.webhook.id}`, {
      token: viewer,
    });
    assert.equal(one.body.webhook.description, "front desk");
    assert.ok(!JSON.stringify(one.body).includes("whsec_"));

    const audit = await t.api<{ auditEvents: { action: string; targetId: string }[] }>(
      "GET",
      "/v1/audit-events",
      {
        token: admin,
      },
    );
    assert.ok(
      audit.body.auditEvents.some(
        (e) => e.action === "webhook.created" && e.targetId === sightingsHook.webhook.id,
      ),
    );
  });

  it("refuses bad registrations with precise problems", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ url: "ftp://example.com/", eventTypes: ["sighting.started"] }, 400, "invalid_webhook_url"],
      [{ url: "https://user:pw@example.com/", eventTypes: ["sighting.started"] }, 400, "invalid_webhook_url"],
      [{ url: receiverUrl, eventTypes: [] }, 400, "validation_failed"],
      [{ url: receiverUrl, eventTypes: ["person.created"] }, 400, "validation_failed"],
      [
        { url: receiverUrl, eventTypes: ["api_key.expiring"], watchlistOnly: true },
        400,
        "invalid_watchlist_only",
      ],
      [
        { url: "https://no-such-host.invalid/", eventTypes: ["sighting.started"] },
        422,
        "webhook_host_not_found",
      ],
    ];
    for (const [body, status, code] of cases) {
      const response = await create(body);
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(response.body.code, code, JSON.stringify(body));
      assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
    }
  });

  it("delivers sighting.started for a sighting streamed through ingest, signed so the receiver verifies it", async () => {
    const cameraId = await startSighting();
    const [delivery] = await until("the sighting reached the receiver", () => {
      const got = sightingDeliveriesFor(cameraId);
      return got.length > 0 && got;
    });
    assert.ok(receiverVerifies(delivery!, sightingsHook.secret), "signature verifies");
    assert.ok(
      !receiverVerifies(
        { ...delivery!, body: delivery!.body.replace(cameraId, "other") },
        sightingsHook.secret,
      ),
    );
    const event = JSON.parse(delivery!.body);
    assert.equal(event.type, "sighting.started");
    assert.equal(event.id, delivery!.headers["facerec-event-id"]);
    assert.equal(event.tenantId, "t-default");
    assert.equal(event.data.sighting.personId, null);
    assert.equal(event.data.sighting.observations, 1);
    const listed = await until("the delivery is listed as succeeded", async () =>
      (await deliveries(sightingsHook.webhook.id)).find(
        (d) => d.eventId === event.id && d.status === "succeeded",
      ),
    );
    assert.equal(listed.lastStatusCode, 200);
    assert.equal(listed.lastResponseExcerpt, "answer 200");
    assert.equal(listed.nextAttemptAt, null);
  });

  it("retries after the receiver answers 500, with the same event id, until it answers 2xx", async () => {
    receiver.statuses = [500, 500, 200];
    const cameraId = await startSighting();
    const listed = await until("the delivery succeeded after retries", async () => {
      const d = (await deliveries(sightingsHook.webhook.id)).find(
        (x) =>
          x.status === "succeeded" &&
          sightingDeliveriesFor(cameraId).some((r) => JSON.parse(r.body).id === x.eventId),
      );
      return d && d.attempts >= 3 && d;
    });
    assert.equal(listed.attempts, 3);
    const attempts = sightingDeliveriesFor(cameraId);
    assert.equal(attempts.length, 3);
    assert.equal(new Set(attempts.map((a) => a.headers["facerec-event-id"])).size, 1);
    assert.ok(attempts.every((a) => receiverVerifies(a, sightingsHook.secret)));
    // The operator sees the receiver's trouble in the people service's metrics.
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    const sightings = 'event_type="sighting.started"';
    assert.ok(
      value(new RegExp(`facerec_webhook_attempts_total\\{${sightings},answer="5xx"\\} (\\d+)`)) >= 2,
      text,
    );
    assert.ok(value(new RegExp(`facerec_webhook_attempts_total\\{${sightings},answer="2xx"\\} (\\d+)`)) >= 1);
    assert.ok(
      value(
        new RegExp(`facerec_webhook_deliveries_settled_total\\{${sightings},status="succeeded"\\} (\\d+)`),
      ) >= 1,
    );
    assert.ok(value(/facerec_people_gallery_faces (\d+)/) >= 0, "the gallery size is exported");
  });

  it("does not send unknown faces to a watchlist-only webhook", async () => {
    const watchlist = await create({
      url: `${receiverUrl}?watchlist`,
      eventTypes: ["sighting.started"],
      watchlistOnly: true,
    });
    assert.equal(watchlist.status, 201);
    watchlistHook = watchlist.body.webhook;
    const cameraId = await startSighting();
    await until("the all-sightings webhook got it", () => sightingDeliveriesFor(cameraId).length > 0);
    // Deliveries are written together for one event: had the watchlist webhook's been written, it would be listed now.
    assert.deepEqual(await deliveries(watchlist.body.webhook.id), []);
  });

  it("sends a watchlisted person's sighting to the watchlist-only webhook, named", async () => {
    const created = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: admin,
      body: { displayName: "Davis King", watchlist: true },
    });
    assert.equal(created.status, 201);
    const personId = created.body.person.id;
    const form = new FormData();
    form.set("image", new Blob([readFileSync(person.enrol)]), "photo.jpg");
    const enrolled = await fetch(`${t.url}/v1/people/${personId}/faces`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
      body: form,
    });
    assert.equal(enrolled.status, 201, await enrolled.clone().text());
    const watchlistDeliveries = () =>
      receiver.received.filter(
        (r) =>
          r.headers["facerec-event-type"] === "sighting.started" &&
          JSON.parse(r.body).data.sighting.personId === personId,
      );
    // The gallery reaches ingest within a second of the enrolment: stream until a face is matched.
    let sent = 0;
    const [delivery] = await until("the watchlisted person's sighting was delivered", async () => {
      await stream.exchange(
        makeBatch({
          cameraId: "cam-watchlist",
          observations: [
            makeObservation({
              embedding: person.probes[sent++ % person.probes.length]!,
              embeddingDim: 128,
              model: MODELS.dlib.id,
              thumbnailJpeg: faceThumbnail(),
            }),
          ],
        }),
      );
      const got = watchlistDeliveries();
      return got.length > 0 && got;
    });
    const sighting = JSON.parse(delivery!.body).data.sighting;
    assert.equal(sighting.personName, "Davis King");
    assert.equal(sighting.watchlist, true);
    assert.ok(sighting.bestSimilarity > 0.5, String(sighting.bestSimilarity));
    const toWatchlistHook = await until("the watchlist webhook's delivery is listed", async () =>
      (await deliveries(watchlistHook.id)).find((d) => d.eventId === JSON.parse(delivery!.body).id),
    );
    assert.equal(toWatchlistHook.eventType, "sighting.started");
  });

  it("completes a delivery after the people service is killed mid-retry, and delivers a sighting started while it was down", async () => {
    receiver.statuses = [500];
    const retried = await startSighting();
    await until("a first attempt was refused", () => sightingDeliveriesFor(retried).length >= 1);
    await t.stack.kill("people");
    receiver.statuses = [200];
    const whileDown = await startSighting();
    await t.stack.start("people");
    await until(
      "both reached the receiver after the restart",
      () => sightingDeliveriesFor(retried).length >= 2 && sightingDeliveriesFor(whileDown).length >= 1,
      60_000,
    );
    // The receiver answers before the dispatcher records the answer: wait for the record.
    for (const cameraId of [retried, whileDown]) {
      const eventId = JSON.parse(sightingDeliveriesFor(cameraId)[0]!.body).id;
      await until(`the delivery for ${cameraId} is listed as succeeded`, async () =>
        (await deliveries(sightingsHook.webhook.id)).some(
          (d) => d.eventId === eventId && d.status === "succeeded",
        ),
      );
    }
  });

  it("keeps tenants apart", async () => {
    const other = await t.createTenant("t-webhooks-other");
    const seen = await t.api<Problem>("GET", `/v1/webhooks/${sightingsHook.webhook.id}`, { token: other });
    assert.equal(seen.status, 404);
    const gone = await t.api<Problem>("DELETE", `/v1/webhooks/${sightingsHook.webhook.id}`, { token: other });
    assert.equal(gone.status, 404);
    const list = await t.api<{ webhooks: Webhook[] }>("GET", "/v1/webhooks", { token: other });
    assert.deepEqual(list.body.webhooks, []);
  });

  it("delivers api_key.expiring once for a key that expires within 7 days", async () => {
    const [delivery] = await until(
      "the expiring key was announced",
      () => {
        const got = receiver.ofType("api_key.expiring");
        return got.length > 0 && got;
      },
      90_000,
    );
    assert.ok(receiverVerifies(delivery!, expiringHook.secret));
    const event = JSON.parse(delivery!.body);
    assert.equal(event.data.apiKey.id, expiringKeyId);
    assert.match(event.data.apiKey.prefix, /^frk_/);
    assert.ok(event.data.apiKey.expiresAt);
    const listed = await until("the delivery is listed as succeeded", async () => {
      const all = await deliveries(expiringHook.webhook.id);
      return all.some((d) => d.status === "succeeded") && all;
    });
    assert.equal(listed.length, 1);
  });

  it("deletes a webhook (audited); it is gone", async () => {
    const deleted = await t.api("DELETE", `/v1/webhooks/${sightingsHook.webhook.id}`, { token: admin });
    assert.equal(deleted.status, 204);
    const gone = await t.api<Problem>("GET", `/v1/webhooks/${sightingsHook.webhook.id}`, { token: admin });
    assert.equal(gone.status, 404);
    const audit = await t.api<{ auditEvents: { action: string; targetId: string }[] }>(
      "GET",
      "/v1/audit-events",
      {
        token: admin,
      },
    );
    assert.ok(
      audit.body.auditEvents.some(
        (e) => e.action === "webhook.deleted" && e.targetId === sightingsHook.webhook.id,
      ),
    );
  });
});
