/**
 * POST /v1/api-keys with an Idempotency-Key, against the real stack: two replicas of every service
 * on one database, so a retry or a duplicate that reaches another gateway and keys replica still
 * creates one key.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type ApiResponse, startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";

type Created = { apiKey: { id: string; name: string; role: string; createdAt: string }; key: string };

describe("POST /v1/api-keys with an Idempotency-Key", () => {
  let a: TestStack;
  let b: TestStack;
  let admin: string;
  before(async () => {
    // Replicas share the pepper, as in production: it is the key of every hash and of the sealing.
    const env = { API_KEY_PEPPER: randomBytes(32).toString("base64") };
    a = await startTestStack(env);
    b = await startTestStack(env, { replicaOf: a });
    admin = await a.login();
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  const create = (stack: TestStack, idempotencyKey: string, body: unknown, token = admin) =>
    stack.api<Created>("POST", "/v1/api-keys", {
      token,
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  const keysNamed = async (name: string) => {
    const page = await a.api<{ apiKeys: { id: string; name: string }[] }>(
      "GET",
      "/v1/api-keys?pageSize=500",
      {
        token: admin,
      },
    );
    return page.body.apiKeys.filter((k) => k.name === name).map((k) => k.id);
  };
  const assertProblem = (res: ApiResponse<unknown>, status: number, code: string) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal((res.body as { code: string }).code, code);
  };

  it("replays a retried create: the same key and secret, created once, on either replica", async () => {
    const idem = crypto.randomUUID();
    const body = { name: "Retried worker", role: "worker", allowedSiteIds: ["s-1"] };
    const first = await create(a, idem, body);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.headers.get("idempotent-replayed"), null);

    for (const stack of [a, b]) {
      const retry = await create(stack, idem, body);
      assert.equal(retry.status, 201, JSON.stringify(retry.body));
      assert.equal(retry.headers.get("idempotent-replayed"), "true");
      assert.equal(retry.headers.get("cache-control"), "no-store");
      assert.deepEqual(retry.body, first.body, "the first response, secret included");
    }
    assert.deepEqual(await keysNamed("Retried worker"), [first.body.apiKey.id]);
    assert.equal((await a.exchange(first.body.key)).status, 200, "the replayed secret is the key's");

    const audit = await a.api<{ auditEvents: { action: string; targetId: string }[] }>(
      "GET",
      "/v1/audit-events",
      {
        token: admin,
      },
    );
    const actions = audit.body.auditEvents
      .filter((e) => e.targetId === first.body.apiKey.id)
      .map((e) => e.action);
    assert.deepEqual(actions.filter((x) => x === "api_key.created").length, 1);
    assert.equal(
      actions.filter((x) => x === "api_key.creation_replayed").length,
      2,
      "each replay is audited",
    );
  });

  it("refuses the same key with a different body (422 idempotency_key_reused) and creates nothing", async () => {
    const idem = crypto.randomUUID();
    assert.equal((await create(a, idem, { name: "Original", role: "worker" })).status, 201);
    assertProblem(await create(b, idem, { name: "Original", role: "viewer" }), 422, "idempotency_key_reused");
    assertProblem(await create(a, idem, { name: "Changed", role: "worker" }), 422, "idempotency_key_reused");
    assert.deepEqual(await keysNamed("Changed"), []);
    assert.equal((await keysNamed("Original")).length, 1);
  });

  it("creates one key for concurrent duplicates sent to both replicas", async () => {
    const idem = crypto.randomUUID();
    const body = { name: "Concurrent", role: "worker" };
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => create(i % 2 ? b : a, idem, body)));
    for (const res of answers) assert.equal(res.status, 201, JSON.stringify(res.body));
    const ids = new Set(answers.map((res) => res.body.apiKey.id));
    const secrets = new Set(answers.map((res) => res.body.key));
    assert.equal(ids.size, 1, "one key");
    assert.equal(secrets.size, 1, "one secret");
    assert.equal(answers.filter((res) => res.headers.get("idempotent-replayed") === "true").length, 7);
    assert.deepEqual(await keysNamed("Concurrent"), [...ids]);
  });

  it("scopes keys to the caller: another caller's same Idempotency-Key is a new key, never the first secret", async () => {
    const idem = crypto.randomUUID();
    const body = { name: "Per caller", role: "worker" };
    const mine = await create(a, idem, body);
    const adminKey = await a.createKey(admin, { role: "admin" });
    const exchanged = await a.exchange(adminKey.key);
    const other = await create(a, idem, body, String(exchanged.body.accessToken));
    assert.equal(other.status, 201, JSON.stringify(other.body));
    assert.equal(other.headers.get("idempotent-replayed"), null);
    assert.notEqual(other.body.apiKey.id, mine.body.apiKey.id);
    assert.notEqual(other.body.key, mine.body.key);
    assert.equal((await keysNamed("Per caller")).length, 2);
  });

  it("creates a new key for every request without the header, and refuses a malformed one", async () => {
    const body = { name: "No header", role: "worker" };
    const plain = () => a.api<Created>("POST", "/v1/api-keys", { token: admin, body });
    assert.equal((await plain()).status, 201);
    assert.equal((await plain()).status, 201);
    assert.equal((await keysNamed("No header")).length, 2);
    assertProblem(await create(a, "x".repeat(256), body), 400, "validation_failed");
    assertProblem(await create(a, "naïve", body), 400, "validation_failed");
  });

  it("declares the header and both problems in the OpenAPI document", async () => {
    const doc = await a.api<{
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
      components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } };
    }>("GET", "/v1/openapi.json");
    const params = doc.body.paths["/v1/api-keys"]!.post!.parameters ?? [];
    assert.ok(params.some((p) => p.name === "Idempotency-Key" && p.in === "header"));
    const codes = doc.body.components.schemas.Problem.properties.code.enum;
    for (const code of ["idempotency_key_reused", "idempotency_key_in_use"])
      assert.ok(codes.includes(code), code);
  });
});
