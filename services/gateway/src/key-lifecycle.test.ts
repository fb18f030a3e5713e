/**
 * Key lifecycle beyond the guide, against the real stack: rotation with a grace period, keys limited
 * to sites and workers, and keys limited to address ranges (with and without TRUST_PROXY).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import {
  type ApiResponse,
  startTestStack,
  TENANT,
  type TestStack,
} from "@facerec/shared/stack/test-stack.ts";
import { ingestClient, makeBatch, WorkerStream, waitForIngest } from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";

type Key = Record<string, unknown>;

const assertProblem = (res: ApiResponse, status: number, code: string) => {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.body.code, code, JSON.stringify(res.body));
};

describe("API key rotation", () => {
  let t: TestStack;
  let admin: string;
  before(async () => {
    t = await startTestStack();
    admin = await t.login();
  });
  after(() => t.stop());

  const rotate = (id: string, body: unknown, token = admin) =>
    t.api<Key>("POST", `/v1/api-keys/${id}/rotate`, { token, body });
  const tokenOf = async (key: string) => {
    const res = await t.exchange(key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { accessToken: string; expiresIn: number };
  };
  const me = (token: string) => t.api("GET", "/v1/me", { token });

  it("without a grace period: a new secret for the same key, the old secret and its tokens refused at once", async () => {
    const { id, key: oldKey } = await t.createKey(admin, { role: "worker", name: "Rotate Me" });
    const oldToken = (await tokenOf(oldKey)).accessToken;

    const res = await rotate(id, { gracePeriodSeconds: 0 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get("cache-control"), "no-store");
    const apiKey = res.body.apiKey as Key;
    const newKey = String(res.body.key);
    assert.notEqual(newKey, oldKey);
    assert.equal(newKey.slice(0, 16), oldKey.slice(0, 16), "same id, so the same prefix");
    assert.deepEqual([apiKey.id, apiKey.name, apiKey.role], [id, "Rotate Me", "worker"]);
    assert.ok(apiKey.rotatedAt);
    assert.equal(apiKey.previousSecretExpiresAt, null);

    assertProblem(await t.exchange(oldKey), 401, "invalid_api_key");
    assert.equal((await t.exchange(newKey)).status, 200);
    await until("the old secret's token is refused", async () => (await me(oldToken)).status === 401, 1000);

    const audit = await t.api<{ auditEvents: Key[] }>("GET", "/v1/audit-events", { token: admin });
    const event = audit.body.auditEvents.find((e) => e.action === "api_key.rotated" && e.targetId === id);
    assert.ok(event, "the rotation is audited");
  });

  it("with a grace period: both secrets work, the list shows when the old one ends, then it and its tokens stop", async () => {
    const { id, key: oldKey } = await t.createKey(admin, { role: "worker" });
    const tokenBefore = (await tokenOf(oldKey)).accessToken;

    const res = await rotate(id, { grace_period_seconds: 3 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const newKey = String(res.body.key);
    const endsAt = Date.parse(String((res.body.apiKey as Key).previousSecretExpiresAt));
    assert.ok(endsAt > Date.now() && endsAt <= Date.now() + 3000);

    const listed = await t.api<{ apiKeys: Key[] }>("GET", "/v1/api-keys", { token: admin });
    const row = listed.body.apiKeys.find((k) => k.id === id)!;
    assert.equal(
      Date.parse(String(row.previousSecretExpiresAt)),
      endsAt,
      "the list shows the key in rotation",
    );

    // During the grace period both secrets exchange; the old secret's token ends with the grace period.
    const fromOld = await tokenOf(oldKey);
    assert.ok(fromOld.expiresIn <= 3, `expiresIn ${fromOld.expiresIn}`);
    const fromNew = await tokenOf(newKey);
    assert.ok(fromNew.expiresIn > 60);
    assert.equal(
      (await me(tokenBefore)).status,
      200,
      "tokens from before the rotation work during the grace period",
    );
    assertProblem(await rotate(id, { gracePeriodSeconds: 0 }), 400, "rotation_in_progress");

    await sleep(Math.max(0, endsAt - Date.now()));
    assertProblem(await t.exchange(oldKey), 401, "invalid_api_key");
    await until(
      "the pre-rotation token is refused",
      async () => (await me(tokenBefore)).status === 401,
      1500,
    );
    assert.equal((await me(fromNew.accessToken)).status, 200, "the new secret's token keeps working");
    assert.equal((await t.exchange(newKey)).status, 200);
    const after = await t.api<{ apiKey: Key }>("GET", `/v1/api-keys/${id}`, { token: admin });
    assert.equal(after.body.apiKey.previousSecretExpiresAt, null);
  });

  it("refuses bad grace periods, unknown keys, other tenants' keys and non-admins", async () => {
    const { id } = await t.createKey(admin, { role: "worker" });
    for (const body of [
      {},
      { gracePeriodSeconds: -1 },
      { gracePeriodSeconds: 604_801 },
      { gracePeriodSeconds: 1.5 },
      { gracePeriodSeconds: "60" },
    ]) {
      assertProblem(await rotate(id, body), 400, "validation_failed");
    }
    assertProblem(await rotate("AAAAAAAAAAAA", { gracePeriodSeconds: 0 }), 404, "not_found");
    const otherAdmin = await t.createTenant("t-rotation-other");
    assertProblem(await rotate(id, { gracePeriodSeconds: 0 }, otherAdmin), 404, "not_found");
    const { key: viewerKey } = await t.createKey(admin, { role: "viewer" });
    const viewer = (await tokenOf(viewerKey)).accessToken;
    assertProblem(await rotate(id, { gracePeriodSeconds: 0 }, viewer), 403, "forbidden");
  });

  it("flags active keys that expire within 7 days", async () => {
    const days = (n: number) => new Date(Date.now() + n * 24 * 3600_000).toISOString();
    const soon = await t.createKey(admin, { role: "worker", expiresAt: days(3) });
    const later = await t.createKey(admin, { role: "worker", expiresAt: days(8) });
    const never = await t.createKey(admin, { role: "worker" });
    const inactive = await t.createKey(admin, { role: "worker", expiresAt: days(1) });
    await t.api("PATCH", `/v1/api-keys/${inactive.id}`, { token: admin, body: { active: false } });
    const listed = await t.api<{ apiKeys: Key[] }>("GET", "/v1/api-keys", { token: admin });
    const flag = (id: string) => listed.body.apiKeys.find((k) => k.id === id)?.expiresSoon;
    assert.deepEqual([soon.id, later.id, never.id, inactive.id].map(flag), [true, false, false, false]);
  });

  it("lets an admin API key manage worker and viewer keys only, never users or admin keys; its actions name it", async () => {
    const { id: machineId, key: machineKey } = await t.createKey(admin, {
      role: "admin",
      name: "automation",
    });
    const machine = (await tokenOf(machineKey)).accessToken;
    const user = await t.api("POST", "/v1/users", {
      token: machine,
      body: { email: "minted@example.com", password: "a-long-enough-password", role: "admin" },
    });
    assertProblem(user, 403, "not_allowed_for_api_keys");
    const adminKey = await t.api("POST", "/v1/api-keys", {
      token: machine,
      body: { name: "x", role: "admin" },
    });
    assertProblem(adminKey, 403, "not_allowed_for_api_keys");
    assertProblem(
      await rotate(machineId, { gracePeriodSeconds: 0 }, machine),
      403,
      "not_allowed_for_api_keys",
    );
    const patched = await t.api("PATCH", `/v1/api-keys/${machineId}`, {
      token: machine,
      body: { name: "y" },
    });
    assertProblem(patched, 403, "not_allowed_for_api_keys");

    const workerKey = await t.api<Key>("POST", "/v1/api-keys", {
      token: machine,
      body: { name: "provisioned", role: "worker" },
    });
    assert.equal(workerKey.status, 201, JSON.stringify(workerKey.body));
    const createdId = (workerKey.body.apiKey as Key).id;
    const audit = await t.api<{ auditEvents: Key[] }>("GET", "/v1/audit-events", { token: admin });
    const created = audit.body.auditEvents.find(
      (e) => e.action === "api_key.created" && e.targetId === createdId,
    );
    assert.deepEqual(
      [(created?.actor as Key | undefined)?.actorType, (created?.actor as Key | undefined)?.actorId],
      ["api_key", machineId],
      "the audit log links the new key to the key that made it",
    );
  });

  it("is in the OpenAPI document with an example", async () => {
    const doc = await t.api<{ paths: Record<string, Record<string, Key>> }>("GET", "/v1/openapi.json");
    const op = doc.body.paths["/v1/api-keys/{id}/rotate"]?.post;
    assert.equal(op?.operationId, "rotateApiKey");
    assert.match(JSON.stringify(op), /gracePeriodSeconds/);
    assert.match(JSON.stringify(op), /86400/);
  });
});

describe("API keys limited to sites, workers and addresses", () => {
  let t: TestStack;
  let admin: string;
  let client: IngestServiceClient;
  before(async () => {
    t = await startTestStack();
    client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(client);
    admin = await t.login();
  });
  after(async () => {
    client.close();
    await t.stop();
  });

  const create = (body: Key) =>
    t.api<Key>("POST", "/v1/api-keys", { token: admin, body: { name: "scoped", role: "worker", ...body } });

  it("refuses batches for a site or worker the key is not limited to, by their ack with site_not_allowed", async () => {
    const created = await create({ allowedSiteIds: ["s-1", "s-2"], allowed_worker_ids: ["worker-001"] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual((created.body.apiKey as Key).allowedSiteIds, ["s-1", "s-2"]);
    const token = String((await t.exchange(String(created.body.key))).body.accessToken);

    const stream = new WorkerStream(client, token);
    const [ok, otherSite, otherWorker] = await stream.exchange(
      makeBatch({ siteId: "s-2", workerId: "worker-001" }),
      makeBatch({ siteId: "s-3", workerId: "worker-001" }),
      makeBatch({ siteId: "s-1", workerId: "worker-002" }),
    );
    assert.equal(ok!.rejected, false, ok!.error);
    assert.equal(otherSite!.rejected, true);
    assert.deepEqual([otherSite!.reason, otherSite!.violations[0]?.field], ["site_not_allowed", "site_id"]);
    assert.match(otherSite!.error, /^site_id: .*s-3/);
    assert.equal(otherWorker!.rejected, true);
    assert.deepEqual(
      [otherWorker!.reason, otherWorker!.violations[0]?.field],
      ["worker_not_allowed", "worker_id"],
    );
    assert.match(otherWorker!.error, /^worker_id: .*worker-002/);
    // The stream stays open for the batches it may take.
    const [again] = await stream.exchange(makeBatch({ siteId: "s-1", workerId: "worker-001" }));
    assert.equal(again!.rejected, false);
    stream.cancel();
  });

  it("an unlimited key streams for any site; narrowing its sites revokes its tokens, which carry the old limits", async () => {
    const { id, key } = await t.createKey(admin, { role: "worker" });
    const listed = await t.api<{ apiKey: Key }>("GET", `/v1/api-keys/${id}`, { token: admin });
    assert.deepEqual(listed.body.apiKey.allowedSiteIds, [], "existing and new keys are unlimited by default");
    const token = String((await t.exchange(key)).body.accessToken);
    const [ack] = await new WorkerStream(client, token).exchange(makeBatch({ siteId: "anywhere" }));
    assert.equal(ack!.rejected, false);

    const patched = await t.api<{ apiKey: Key }>("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { allowedSiteIds: ["s-9"] },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.apiKey.allowedSiteIds, ["s-9"]);
    await until(
      "the old token is refused",
      async () => (await t.api("GET", "/v1/me", { token })).status === 401,
      1000,
    );
    const fresh = String((await t.exchange(key)).body.accessToken);
    const [refused] = await new WorkerStream(client, fresh).exchange(makeBatch({ siteId: "anywhere" }));
    assert.equal(refused!.reason, "site_not_allowed");

    const cleared = await t.api<{ apiKey: Key }>("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { allowedSiteIds: [] },
    });
    assert.deepEqual(cleared.body.apiKey.allowedSiteIds, []);
    const audit = await t.api<{ auditEvents: Key[] }>("GET", "/v1/audit-events", { token: admin });
    const change = audit.body.auditEvents.find(
      (e) => e.targetId === id && JSON.stringify(e.changes).includes("allowedSiteIds"),
    );
    assert.ok(change, "limit changes are audited");
  });

  it("counts a key's exchanges, refusals by cause and streamed observations per day", async () => {
    const created = await create({ allowedCidrs: ["127.0.0.0/8", "::1"] });
    const { id } = created.body.apiKey as Key;
    const key = String(created.body.key);
    const token = String((await t.exchange(key)).body.accessToken);
    await t.exchange(key);
    assertProblem(await t.exchange(key, "t-someone-else"), 401, "tenant_mismatch");
    const [ack] = await new WorkerStream(client, token).exchange(makeBatch({ observations: 3 }));
    assert.equal(ack!.accepted, 3);
    const today = new Date().toISOString().slice(0, 10);
    // Ingest reports a key's first batch at once; the keys service writes its counts every 5 s.
    const usage = await until(
      "the usage is written",
      async () => {
        const res = await t.api<{ days: Key[] }>("GET", `/v1/api-keys/${id}/usage?days=7`, { token: admin });
        const last = res.body.days?.at(-1);
        return last?.observations === 3 ? res : undefined;
      },
      15_000,
    );
    assert.equal(usage.body.days.length, 7);
    assert.deepEqual(usage.body.days.at(-1), {
      day: today,
      tokenExchanges: 2,
      refusals: { tenant_mismatch: 1 },
      observations: 3,
    });
    assert.deepEqual(usage.body.days[0], {
      day: new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10),
      tokenExchanges: 0,
      refusals: {},
      observations: 0,
    });
    assertProblem(
      await t.api("GET", `/v1/api-keys/${id}/usage?days=91`, { token: admin }),
      400,
      "validation_failed",
    );
    const other = await t.createTenant("t-usage-other");
    assertProblem(await t.api("GET", `/v1/api-keys/${id}/usage`, { token: other }), 404, "not_found");
    const listed = await t.api<{ apiKey: Key }>("GET", `/v1/api-keys/${id}`, { token: admin });
    assert.equal(listed.body.apiKey.stale, false, "a key used today is not stale");
  });

  it("refuses a token exchange from outside the key's address ranges with 401 ip_not_allowed", async () => {
    const outside = await create({ allowedCidrs: ["192.0.2.0/24", "2001:db8::/32"] });
    assert.equal(outside.status, 201, JSON.stringify(outside.body));
    assertProblem(await t.exchange(String(outside.body.key)), 401, "ip_not_allowed");
    // Without TRUST_PROXY a client cannot pick its address with X-Forwarded-For.
    const spoofed = await t.api("POST", "/v1/auth/token", {
      body: { apiKey: outside.body.key, tenantId: TENANT },
      headers: { "x-forwarded-for": "192.0.2.7" },
    });
    assertProblem(spoofed, 401, "ip_not_allowed");

    const inside = await create({ allowedCidrs: ["127.0.0.0/8", "::1"] });
    assert.deepEqual((inside.body.apiKey as Key).allowedCidrs, ["127.0.0.0/8", "::1/128"]);
    assert.equal((await t.exchange(String(inside.body.key))).status, 200);
  });

  it("answers bad limits with 400 and what was wrong", async () => {
    const cases: Key[] = [
      { allowedSiteIds: ["has space"] },
      { allowedSiteIds: "s-1" },
      { allowedWorkerIds: ["x".repeat(65)] },
      { allowedCidrs: ["10.0.0.0/33"] },
      { allowedCidrs: ["not-an-address"] },
      { allowedSiteIds: Array.from({ length: 101 }, (_, i) => `s-${i}`) },
    ];
    for (const body of cases) {
      const res = await create(body);
      assertProblem(res, 400, "validation_failed");
      assert.ok(
        Array.isArray(res.body.errors) && (res.body.errors as Key[])[0]!.field,
        JSON.stringify(res.body),
      );
    }
    const { id } = await t.createKey(admin, { role: "worker" });
    const res = await t.api("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { allowedCidrs: ["1.2.3.4/40"] },
    });
    assertProblem(res, 400, "validation_failed");
  });
});

describe("address ranges behind a trusted proxy (TRUST_PROXY=true)", () => {
  let t: TestStack;
  let admin: string;
  before(async () => {
    t = await startTestStack({ TRUST_PROXY: "true" });
    admin = await t.login();
  });
  after(() => t.stop());

  it("takes the client address the proxy appended to X-Forwarded-For, not one the client sent", async () => {
    const created = await t.api<Key>("POST", "/v1/api-keys", {
      token: admin,
      body: { name: "behind proxy", role: "worker", allowedCidrs: ["198.51.100.0/24"] },
    });
    const exchange = (xff: string) =>
      t.api("POST", "/v1/auth/token", {
        body: { apiKey: created.body.key, tenantId: TENANT },
        headers: { "x-forwarded-for": xff },
      });
    assert.equal((await exchange("198.51.100.20")).status, 200);
    // The client sent 198.51.100.20 itself; the proxy appended the address it really came from.
    assertProblem(await exchange("198.51.100.20, 203.0.113.9"), 401, "ip_not_allowed");
    assertProblem(await t.exchange(String(created.body.key)), 401, "ip_not_allowed");
  });
});
