/** Hostile input, brute force, session theft and secret leakage, against the real stack. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiResponse,
  startTestStack,
  TENANT,
  type TestStack,
} from "@facerec/shared/stack/test-stack.ts";

const INJECTIONS: unknown[] = [
  { $ne: null },
  { $gt: "" },
  { $regex: ".*" },
  { $where: "return true" },
  ["admin"],
  { toString: "x" },
];

describe("hostile input", () => {
  let t: TestStack;
  let admin: string;
  let keyId: string;
  before(async () => {
    // Rate limiting is specified below; here it would only get in the way of the many requests.
    t = await startTestStack({ LOGIN_RATE_LIMIT: "1000", TOKEN_RATE_LIMIT: "1000" });
    admin = await t.login();
    keyId = (await t.createKey(admin, { role: "worker" })).id;
  });
  after(() => t.stop());

  const bodies: { method: string; path: () => string; valid: Record<string, unknown>; auth: boolean }[] = [
    {
      method: "POST",
      path: () => "/v1/auth/login",
      valid: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      auth: false,
    },
    {
      method: "POST",
      path: () => "/v1/auth/token",
      valid: { apiKey: "frk_x", tenantId: TENANT },
      auth: false,
    },
    {
      method: "POST",
      path: () => "/v1/api-keys",
      valid: { name: "n", role: "worker", expiresAt: new Date(Date.now() + 864e5).toISOString() },
      auth: true,
    },
    {
      method: "PATCH",
      path: () => `/v1/api-keys/${keyId}`,
      valid: { name: "n", active: true, expiresAt: null },
      auth: true,
    },
    {
      method: "POST",
      path: () => "/v1/tenants",
      valid: { id: "t-x", name: "x", adminEmail: "a@b.example", adminPassword: "long-enough-password" },
      auth: true,
    },
  ];

  it("answers NoSQL-injection shapes in every body field with 400 validation_failed", async () => {
    for (const { method, path, valid, auth } of bodies) {
      for (const field of Object.keys(valid)) {
        for (const injection of INJECTIONS) {
          const res = await t.api(method, path(), {
            token: auth ? admin : undefined,
            body: { ...valid, [field]: injection },
          });
          assert.equal(
            res.status,
            400,
            `${method} ${path()} ${field}=${JSON.stringify(injection)} → ${res.status}`,
          );
          assert.equal(res.body.code, "validation_failed");
          assert.ok((res.body.errors as { field: string }[]).some((e) => e.field === `body.${field}`));
        }
      }
    }
    assert.equal(
      (await t.api("GET", `/v1/api-keys/${keyId}`, { token: admin })).status,
      200,
      "the key was not touched",
    );
  });

  it("answers page tokens it never issued with 400 invalid_page_token on every listing", async () => {
    // [1e+300, "y"]: a cursor whose time no Date can hold; {"x":1}: not a cursor; then garbage.
    const tokens = ["WzFlKzMwMCwieSJd", "eyJ4IjoxfQ", "not-a-token"];
    for (const path of ["/v1/events", "/v1/api-keys", "/v1/audit-events"]) {
      for (const pageToken of tokens) {
        const res = await t.api("GET", `${path}?pageToken=${pageToken}`, { token: admin });
        assert.deepEqual([res.status, res.body.code], [400, "invalid_page_token"], `${path} ${pageToken}`);
      }
    }
  });

  it("refuses operator-shaped query parameters and path ids", async () => {
    const query = await t.api("GET", "/v1/api-keys?pageSize[$gt]=0", { token: admin });
    assert.equal(query.status, 400);
    const page = await t.api("GET", "/v1/api-keys?pageToken=eyJ4IjoxfQ", { token: admin });
    assert.deepEqual([page.status, page.body.code], [400, "invalid_page_token"]);
    const id = await t.api("GET", `/v1/api-keys/${encodeURIComponent('{"$ne":null}')}`, { token: admin });
    assert.equal(id.status, 404);
  });

  it("answers malformed JSON with 400 and oversized bodies with 413, as problem+json", async () => {
    for (const body of ["{", "{'a':1}", '{"name": "x",}', "null"]) {
      const res = await t.api("POST", "/v1/api-keys", { token: admin, body });
      assert.equal(res.status, 400, body);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
    }
    const big = await t.api("POST", "/v1/api-keys", {
      token: admin,
      body: { name: "x".repeat(100_000), role: "worker" },
    });
    assert.deepEqual([big.status, big.body.code], [413, "body_too_large"]);
  });

  it("refuses unknown fields and wrong types with the field named", async () => {
    const res = await t.api<{ errors: { field: string }[] }>("POST", "/v1/api-keys", {
      token: admin,
      body: { name: "x", role: "root", extra: 1 },
    });
    assert.equal(res.status, 400);
    const fields = res.body.errors.map((e) => e.field);
    assert.ok(
      fields.includes("body.role") && fields.some((f) => f.startsWith("body")),
      JSON.stringify(fields),
    );
  });

  it("answers unknown routes and missing tokens with problem+json", async () => {
    const missing = await t.api("GET", "/v1/nope");
    assert.deepEqual([missing.status, missing.body.code], [404, "not_found"]);
    const anon = await t.api("GET", "/v1/api-keys");
    assert.deepEqual([anon.status, anon.body.code], [401, "missing_token"]);
    assert.equal(anon.headers.get("www-authenticate"), "Bearer");
    for (const header of ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer two words"]) {
      const malformed = await t.api("GET", "/v1/api-keys", { headers: { authorization: header } });
      assert.deepEqual([malformed.status, malformed.body.code], [401, "invalid_token"], header);
      assert.equal(malformed.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    }
  });

  it("answers a method a route does not take with 405 problem+json and Allow", async () => {
    for (const [method, path, allow] of [
      ["PUT", "/v1/auth/login", "POST"],
      // Methods no route has (TRACE too; fetch refuses to send it): the router's 501, answered
      // as what it is for this resource.
      ["PROPFIND", "/v1/events", "HEAD, GET"],
      ["PROPFIND", "/v1/api-keys", "HEAD, GET, POST"],
    ]) {
      const res = await t.api(method!, path!, { token: admin });
      assert.deepEqual([res.status, res.body.code], [405, "method_not_allowed"], method);
      assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
      assert.equal(res.headers.get("allow"), allow, method);
    }
  });
});

describe("brute force and sessions", () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({ LOGIN_RATE_LIMIT: "5", TOKEN_RATE_LIMIT: "8" });
  });
  after(() => t.stop());

  it("rate-limits sign-in per client with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    let last: ApiResponse | undefined;
    for (let i = 0; i < 7; i++) {
      last = await t.api("POST", "/v1/auth/login", { body: { email: ADMIN_EMAIL, password: `wrong-${i}` } });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert.equal(last!.body.code, "rate_limited");
    assert.ok(Number(last!.headers.get("retry-after")) > 0);
    // Seconds until the one-minute window resets, not a Unix time.
    const reset = Number(last!.headers.get("ratelimit-reset"));
    assert.ok(reset > 0 && reset <= 60, `RateLimit-Reset ${reset}`);
    assert.equal(last!.headers.get("ratelimit-remaining"), "0");
  });

  it("rate-limits token exchange per client", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await t.exchange("frk_nope")).status);
    assert.deepEqual(statuses.slice(-2), [429, 429]);
    assert.ok(statuses.slice(0, 8).every((s) => s === 401));
  });
});

describe("refresh-token reuse and secrets", () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack();
  });
  after(() => t.stop());

  const cookieOf = (res: { headers: Headers }) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;

  it("revokes the whole session family when a rotated refresh token is presented again", async () => {
    const login = await t.api("POST", "/v1/auth/login", {
      body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const first = cookieOf(login);
    const second = cookieOf(await t.api("POST", "/v1/auth/refresh", { headers: { cookie: first } }));
    const reuse = await t.api("POST", "/v1/auth/refresh", { headers: { cookie: first } });
    assert.deepEqual([reuse.status, reuse.body.code], [401, "refresh_token_reused"]);
    const victim = await t.api("POST", "/v1/auth/refresh", { headers: { cookie: second } });
    assert.equal(victim.status, 401, "the legitimate successor is revoked too");
  });

  it("never shows the key secret in lists, gets, audit entries or any log line", async () => {
    const admin = await t.login();
    const { id, key } = await t.createKey(admin, { role: "worker", name: "secret keeper" });
    await t.exchange(key);
    await t.exchange(key, "t-wrong");
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
    await t.exchange(key);
    const secret = key.slice(16, 48);
    const seen = [
      JSON.stringify((await t.api("GET", "/v1/api-keys", { token: admin })).body),
      JSON.stringify((await t.api("GET", `/v1/api-keys/${id}`, { token: admin })).body),
      JSON.stringify((await t.api("GET", "/v1/audit-events?pageSize=500", { token: admin })).body),
      ...t.stack.output,
    ].join("\n");
    assert.ok(seen.length > 1000, "there is output to search");
    assert.ok(!seen.includes(secret), "secret leaked");
    assert.ok(!seen.includes(key), "key leaked");
    assert.ok(!/"hash"/.test(seen), "hash leaked");
    assert.ok(!seen.includes(ADMIN_PASSWORD), "password leaked");
  });
});
