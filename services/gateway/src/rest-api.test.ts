/** Every REST endpoint's success path, against the real stack. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort } from "@facerec/shared/net.ts";
import { ADMIN_EMAIL, startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";

type Key = {
  id: string;
  name: string;
  role: string;
  prefix: string;
  active: boolean;
  status: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  createdBy: string;
};

describe("REST /v1", () => {
  let t: TestStack;
  let admin: string;
  let metricsPort: number;
  before(async () => {
    metricsPort = await freePort();
    t = await startTestStack({ GATEWAY_METRICS_PORT: String(metricsPort) });
    admin = await t.login();
  });
  after(() => t.stop());

  it("signs an admin in with a Bearer token and an HttpOnly SameSite=Strict refresh cookie", async () => {
    const res = await t.api<{
      accessToken: string;
      tokenType: string;
      expiresIn: number;
      user: { email: string; role: string };
    }>("POST", "/v1/auth/login", {
      body: { email: "Admin@LocalHost", password: "correct-horse-battery-staple" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.tokenType, "Bearer");
    assert.equal(res.body.expiresIn, 900);
    assert.deepEqual([res.body.user.email, res.body.user.role], [ADMIN_EMAIL, "admin"]);
    const [cookie = "", marker = ""] = res.headers.getSetCookie();
    assert.match(
      marker,
      /^facerec_session=1;/,
      "script-readable marker that a session exists, with no secret",
    );
    assert.doesNotMatch(marker, /httponly/i);
    assert.match(cookie, /^facerec_refresh=[\w-]{40,};/);
    assert.match(cookie, /httponly/i);
    assert.match(cookie, /samesite=strict/i);
    assert.match(cookie, /path=\/v1\/auth/i);
  });

  it("refreshes with the cookie, rotating it, and logs out", async () => {
    const login = await t.api("POST", "/v1/auth/login", {
      body: { email: ADMIN_EMAIL, password: "correct-horse-battery-staple" },
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const refreshed = await t.api<{ accessToken: string }>("POST", "/v1/auth/refresh", {
      headers: { cookie },
    });
    assert.equal(refreshed.status, 200);
    const rotated = (refreshed.headers.get("set-cookie") ?? "").split(";")[0]!;
    assert.notEqual(rotated, cookie);
    const me = await t.api("GET", "/v1/me", { token: refreshed.body.accessToken });
    assert.equal(me.status, 200);
    const logout = await t.api("POST", "/v1/auth/logout", { headers: { cookie: rotated } });
    assert.equal(logout.status, 204);
    const afterLogout = await t.api("POST", "/v1/auth/refresh", { headers: { cookie: rotated } });
    assert.equal(afterLogout.status, 401);
    assert.equal(afterLogout.body.code, "invalid_refresh_token");
  });

  it("creates a key whose plaintext is returned once and exchanges it for a token", async () => {
    const created = await t.api<{ apiKey: Key; key: string }>("POST", "/v1/api-keys", {
      token: admin,
      body: { name: "Production Worker 01", role: "worker" },
    });
    assert.equal(created.status, 201);
    const { apiKey, key } = created.body;
    assert.match(key, /^frk_[0-9A-Za-z]{50}$/);
    assert.deepEqual(
      {
        name: apiKey.name,
        role: apiKey.role,
        active: apiKey.active,
        status: apiKey.status,
        expiresAt: apiKey.expiresAt,
        lastUsedAt: apiKey.lastUsedAt,
        createdBy: apiKey.createdBy,
      },
      {
        name: "Production Worker 01",
        role: "worker",
        active: true,
        status: "active",
        expiresAt: null,
        lastUsedAt: null,
        createdBy: ADMIN_EMAIL,
      },
    );
    assert.ok(key.startsWith(apiKey.prefix));

    const token = await t.api<{
      accessToken: string;
      tokenType: string;
      expiresIn: number;
      ingestEndpoint: string;
      keyExpiresAt: string | null;
    }>("POST", "/v1/auth/token", {
      body: { apiKey: key, tenantId: TENANT },
    });
    assert.equal(token.status, 200);
    assert.equal(token.body.tokenType, "Bearer");
    assert.ok(token.body.expiresIn > 0 && token.body.expiresIn <= 900);
    assert.match(token.body.ingestEndpoint, /^grpc:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(token.body.keyExpiresAt, null, "the key never expires");
    // A key that does: the worker learns when, to warn ahead of it.
    const expiresAt = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000).toISOString();
    const expiring = await t.createKey(admin, { role: "worker", expiresAt });
    assert.equal((await t.exchange(expiring.key)).body.keyExpiresAt, expiresAt);

    const me = await t.api<{ tenantId: string; role: string; apiKey: Key }>("GET", "/v1/me", {
      token: token.body.accessToken,
    });
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.tenantId, me.body.role, me.body.apiKey.id], [TENANT, "worker", apiKey.id]);
    assert.ok(me.body.apiKey.lastUsedAt, "lastUsedAt is recorded on use");
  });

  it("accepts snake_case field names as the proto3 JSON mapping allows", async () => {
    const { key } = await t.createKey(admin, { role: "worker" });
    const res = await t.api("POST", "/v1/auth/token", { body: { api_key: key, tenant_id: TENANT } });
    assert.equal(res.status, 200);
  });

  it("lists keys newest first with cursor pagination", async () => {
    for (let i = 0; i < 3; i++) await t.createKey(admin, { role: "viewer", name: `page ${i}` });
    const all = await t.api<{ apiKeys: Key[] }>("GET", "/v1/api-keys", { token: admin });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await t.api<{ apiKeys: Key[]; nextPageToken: string }>(
        "GET",
        `/v1/api-keys?pageSize=2${pageToken ? `&pageToken=${pageToken}` : ""}`,
        { token: admin },
      );
      assert.equal(page.status, 200);
      assert.ok(page.body.apiKeys.length <= 2);
      seen.push(...page.body.apiKeys.map((k) => k.id));
      pageToken = page.body.nextPageToken;
    } while (pageToken);
    assert.deepEqual(
      seen,
      all.body.apiKeys.map((k) => k.id),
    );
    const created = all.body.apiKeys.map((k) => Date.parse(k.createdAt));
    assert.deepEqual(
      created,
      [...created].sort((a, b) => b - a),
    );
  });

  it("gets, renames, sets and clears the expiration, deactivates and deletes a key", async () => {
    const { id } = await t.createKey(admin, { role: "worker", name: "Development Worker" });
    const got = await t.api<{ apiKey: Key }>("GET", `/v1/api-keys/${id}`, { token: admin });
    assert.equal(got.body.apiKey.name, "Development Worker");

    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const patched = await t.api<{ apiKey: Key }>("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { name: "Renamed", expiresAt },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual([patched.body.apiKey.name, patched.body.apiKey.expiresAt], ["Renamed", expiresAt]);

    const cleared = await t.api<{ apiKey: Key }>("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { expiresAt: null },
    });
    assert.equal(cleared.body.apiKey.expiresAt, null);

    const inactive = await t.api<{ apiKey: Key }>("PATCH", `/v1/api-keys/${id}`, {
      token: admin,
      body: { active: false },
    });
    assert.deepEqual([inactive.body.apiKey.active, inactive.body.apiKey.status], [false, "inactive"]);

    assert.equal((await t.api("DELETE", `/v1/api-keys/${id}`, { token: admin })).status, 204);
    const gone = await t.api("GET", `/v1/api-keys/${id}`, { token: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, "not_found");
  });

  it("refuses an expiration in the past with 400", async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const created = await t.api("POST", "/v1/api-keys", {
      token: admin,
      body: { name: "x", role: "worker", expiresAt: past },
    });
    assert.equal(created.status, 400);
    assert.equal(created.body.code, "validation_failed");
    const { id } = await t.createKey(admin, { role: "worker" });
    const patched = await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { expiresAt: past } });
    assert.equal(patched.status, 400);
  });

  it("records every key change and sign-in in the audit log with who, when and from where", async () => {
    const { id } = await t.createKey(admin, { role: "worker", name: "audited" });
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: true, name: "audited 2" } });
    await t.api("DELETE", `/v1/api-keys/${id}`, { token: admin });
    const res = await t.api<{
      auditEvents: {
        action: string;
        targetId: string;
        actor: { displayName: string; remoteAddress: string };
        occurredAt: string;
        changes: { field: string }[];
      }[];
    }>("GET", "/v1/audit-events?pageSize=100", { token: admin });
    assert.equal(res.status, 200);
    const forKey = res.body.auditEvents.filter((e) => e.targetId === id).map((e) => e.action);
    assert.deepEqual(forKey, [
      "api_key.deleted",
      "api_key.activated",
      "api_key.deactivated",
      "api_key.created",
    ]);
    const signIn = res.body.auditEvents.find((e) => e.action === "user.signed_in");
    assert.ok(signIn);
    assert.equal(signIn.actor.displayName, ADMIN_EMAIL);
    assert.match(signIn.actor.remoteAddress, /127\.0\.0\.1/);
    assert.ok(Date.parse(signIn.occurredAt) > 0);
  });

  it("lets the platform admin create and list tenants", async () => {
    const res = await t.api<{
      tenant: { id: string };
      admin: { email: string; role: string; tenantId: string };
    }>("POST", "/v1/tenants", {
      token: admin,
      body: {
        id: "t-acme",
        name: "Acme",
        adminEmail: "ops@acme.example",
        adminPassword: "another-long-password",
      },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(
      [res.body.tenant.id, res.body.admin.email, res.body.admin.role, res.body.admin.tenantId],
      ["t-acme", "ops@acme.example", "admin", "t-acme"],
    );
    const dup = await t.api("POST", "/v1/tenants", {
      token: admin,
      body: {
        id: "t-acme",
        name: "Acme",
        adminEmail: "other@acme.example",
        adminPassword: "another-long-password",
      },
    });
    assert.equal(dup.status, 409);
    const list = await t.api<{ tenants: { id: string }[] }>("GET", "/v1/tenants", { token: admin });
    assert.deepEqual(
      list.body.tenants.map((x) => x.id),
      [TENANT, "t-acme"],
    );
  });

  it("lets an admin add a viewer to the tenant, who can sign in and read but not change anything", async () => {
    const created = await t.api<{ user: { email: string; role: string; tenantId: string } }>(
      "POST",
      "/v1/users",
      {
        token: admin,
        body: { email: "viewer@t-default.example", password: "a-viewer-password", role: "viewer" },
      },
    );
    assert.equal(created.status, 201);
    assert.deepEqual([created.body.user.role, created.body.user.tenantId], ["viewer", TENANT]);
    const viewer = await t.login("viewer@t-default.example", "a-viewer-password");
    assert.equal((await t.api("GET", "/v1/api-keys", { token: viewer })).status, 200);
    assert.equal(
      (await t.api("POST", "/v1/api-keys", { token: viewer, body: { name: "x", role: "worker" } })).status,
      403,
    );
    assert.equal(
      (
        await t.api("POST", "/v1/users", {
          token: viewer,
          body: { email: "x@y.example", password: "long-enough-pw", role: "admin" },
        })
      ).status,
      403,
      "viewers cannot add people",
    );
    const again = await t.api("POST", "/v1/users", {
      token: admin,
      body: { email: "viewer@t-default.example", password: "a-viewer-password", role: "viewer" },
    });
    assert.deepEqual([again.status, again.body.code], [409, "email_taken"]);
  });

  it("keeps emails per tenant: another tenant's users are not disclosed, and sign-in finds the right account", async () => {
    const other = await t.createTenant("t-emails");
    const person = { email: "shared@person.example", role: "viewer" };
    const inDefault = await t.api("POST", "/v1/users", {
      token: admin,
      body: { ...person, password: "default-tenant-pw" },
    });
    assert.equal(inDefault.status, 201);
    // The same address in another tenant: created, so that admin learns nothing of the first.
    const inOther = await t.api<{ user: { tenantId: string } }>("POST", "/v1/users", {
      token: other,
      body: { ...person, password: "other-tenant-pw" },
    });
    assert.deepEqual([inOther.status, inOther.body.user.tenantId], [201, "t-emails"]);
    // Each password opens its own tenant's account.
    const me = async (password: string, tenantId?: string) => {
      const login = await t.api<{ accessToken: string; user: { tenantId: string } }>(
        "POST",
        "/v1/auth/login",
        {
          body: { email: person.email, password, ...(tenantId ? { tenantId } : {}) },
        },
      );
      return login.status === 200 ? login.body.user.tenantId : login.body;
    };
    assert.equal(await me("default-tenant-pw"), TENANT);
    assert.equal(await me("other-tenant-pw"), "t-emails");
    // One password for both: the caller proved both, and must say which.
    const both = { email: "both@person.example", role: "viewer", password: "same-password-both" };
    for (const token of [admin, other])
      assert.equal((await t.api("POST", "/v1/users", { token, body: both })).status, 201);
    const ambiguous = await t.api("POST", "/v1/auth/login", {
      body: { email: both.email, password: both.password },
    });
    assert.deepEqual([ambiguous.status, ambiguous.body.code], [400, "tenant_required"]);
    const chosen = await t.api<{ user: { tenantId: string } }>("POST", "/v1/auth/login", {
      body: { email: both.email, password: both.password, tenantId: "t-emails" },
    });
    assert.deepEqual([chosen.status, chosen.body.user.tenantId], [200, "t-emails"]);
  });

  it("publishes the JWKS and an OpenAPI 3.1 document describing every route", async () => {
    const jwks = await t.api<{ keys: { kty: string; crv: string; alg: string; kid: string }[] }>(
      "GET",
      "/v1/auth/jwks",
    );
    assert.equal(jwks.status, 200);
    assert.ok(jwks.body.keys.length >= 1);
    assert.deepEqual(
      [jwks.body.keys[0]!.kty, jwks.body.keys[0]!.crv, jwks.body.keys[0]!.alg],
      ["OKP", "Ed25519", "EdDSA"],
    );
    const doc = await t.api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "/v1/openapi.json",
    );
    assert.equal(doc.body.openapi, "3.1.0");
    for (const [path, method] of [
      ["/v1/auth/login", "post"],
      ["/v1/auth/token", "post"],
      ["/v1/api-keys", "post"],
      ["/v1/api-keys/{id}", "patch"],
      ["/v1/audit-events", "get"],
      ["/v1/tenants", "post"],
      ["/v1/users", "post"],
    ] as const) {
      assert.ok(doc.body.paths[path]?.[method], `${method} ${path} documented`);
    }
    type Operation = { operationId?: string; requestBody?: { required?: boolean } };
    const operations = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, Operation>).map(([method, op]) => ({
        at: `${method} ${path}`,
        op,
      })),
    );
    // Generated clients name their methods after operationId: present, unique, lowerCamelCase.
    for (const { at, op } of operations) assert.match(op.operationId ?? "", /^[a-z][A-Za-z]+$/, at);
    assert.equal(new Set(operations.map(({ op }) => op.operationId)).size, operations.length);
    assert.equal(
      doc.body.paths["/v1/api-keys"]?.post && (doc.body.paths["/v1/api-keys"].post as Operation).operationId,
      "createApiKey",
    );
    for (const { at, op } of operations) if (op.requestBody) assert.equal(op.requestBody.required, true, at);
    // The session cookie is part of the contract: where it is read, and which answers set it.
    type Documented = {
      parameters?: { in: string; name: string }[];
      responses: Record<string, { headers?: Record<string, unknown> }>;
    };
    const auth = (path: string) => doc.body.paths[path]?.post as Documented;
    for (const path of ["/v1/auth/refresh", "/v1/auth/logout"]) {
      assert.deepEqual(
        auth(path).parameters?.map((p) => [p.in, p.name]),
        [["cookie", "facerec_refresh"]],
        path,
      );
    }
    assert.ok(auth("/v1/auth/login").responses["200"]?.headers?.["Set-Cookie"]);
    assert.ok(auth("/v1/auth/token").responses["200"]?.headers?.["RateLimit-Reset"]);
  });

  it("serves health, readiness, metrics and security headers", async () => {
    assert.equal((await t.api("GET", "/healthz")).status, 200);
    const ready = await t.api<{ ready: boolean; checks: Record<string, boolean> }>("GET", "/readyz");
    assert.deepEqual([ready.status, ready.body.ready], [200, true]);
    // Metrics on their own port only: the public one does not expose them.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /http_request_duration_seconds_bucket/);
    const onPublicPort = await t.api("GET", "/metrics");
    assert.doesNotMatch(String(onPublicPort.body), /http_request_duration_seconds/);
    const res = await t.api("GET", "/v1/me", { token: admin });
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });
});
