/** Tenant isolation, role enforcement and JWT attacks, against the real stack. */
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { importJWK, type JWK, SignJWT } from "jose";
import mongoose from "mongoose";

describe("tenant isolation and roles", () => {
  let t: TestStack;
  let adminA: string;
  let keyA: { id: string; key: string };
  const callers: Record<string, string> = {};

  before(async () => {
    t = await startTestStack();
    adminA = await t.login();
    keyA = await t.createKey(adminA, { role: "worker", name: "tenant A worker" });
    callers["B admin"] = await t.createTenant("t-bravo");
    const viewerB = await t.createKey(callers["B admin"], { role: "viewer" });
    const workerB = await t.createKey(callers["B admin"], { role: "worker" });
    const adminKeyB = await t.createKey(callers["B admin"], { role: "admin" });
    for (const [name, key] of [
      ["B viewer", viewerB],
      ["B worker", workerB],
      ["B admin key", adminKeyB],
    ] as const) {
      const res = await t.exchange(key.key, "t-bravo");
      assert.equal(res.status, 200);
      callers[name] = res.body.accessToken as string;
    }
  });
  after(() => t.stop());

  it("shows no caller of tenant B anything of tenant A", async () => {
    for (const [name, token] of Object.entries(callers)) {
      const list = await t.api<{ apiKeys?: { id: string }[] }>("GET", "/v1/api-keys", { token });
      if (list.status === 200)
        assert.ok(!list.body.apiKeys!.some((k) => k.id === keyA.id), `${name} listed A's key`);
      else assert.equal(list.status, 403, name);
      const get = await t.api("GET", `/v1/api-keys/${keyA.id}`, { token });
      assert.ok([403, 404].includes(get.status), `${name} GET → ${get.status}`);
      const audit = await t.api<{ auditEvents?: { tenantId: string; targetId: string }[] }>(
        "GET",
        "/v1/audit-events?pageSize=500",
        { token },
      );
      if (audit.status === 200)
        assert.ok(
          audit.body.auditEvents!.every((e) => e.tenantId === "t-bravo"),
          `${name} saw A's audit`,
        );
      else assert.equal(audit.status, 403, name);
    }
  });

  it("lets no caller of tenant B change or delete tenant A's key", async () => {
    for (const [name, token] of Object.entries(callers)) {
      const patch = await t.api("PATCH", `/v1/api-keys/${keyA.id}`, {
        token,
        body: { active: false, name: "pwned" },
      });
      assert.ok([403, 404].includes(patch.status), `${name} PATCH → ${patch.status}`);
      const del = await t.api("DELETE", `/v1/api-keys/${keyA.id}`, { token });
      assert.ok([403, 404].includes(del.status), `${name} DELETE → ${del.status}`);
    }
    const still = await t.api<{ apiKey: { name: string; active: boolean } }>(
      "GET",
      `/v1/api-keys/${keyA.id}`,
      { token: adminA },
    );
    assert.deepEqual([still.body.apiKey.name, still.body.apiKey.active], ["tenant A worker", true]);
    assert.equal((await t.exchange(keyA.key, TENANT)).status, 200);
  });

  it("refuses tenant A's key for tenant B and the tenant B id in a body", async () => {
    assert.equal((await t.exchange(keyA.key, "t-bravo")).body.code, "tenant_mismatch");
    // Extra fields cannot smuggle a tenant into a create: the body schema is strict.
    const res = await t.api("POST", "/v1/api-keys", {
      token: callers["B admin"],
      body: { name: "x", role: "worker", tenantId: TENANT },
    });
    assert.equal(res.status, 400);
  });

  it("lets worker keys only exchange tokens and read /v1/me", async () => {
    const token = callers["B worker"]!;
    assert.equal((await t.api("GET", "/v1/me", { token })).status, 200);
    for (const [method, path] of [
      ["GET", "/v1/api-keys"],
      ["POST", "/v1/api-keys"],
      ["GET", "/v1/audit-events"],
      ["GET", "/v1/tenants"],
    ] as const) {
      const res = await t.api(method, path, {
        token,
        body: method === "POST" ? { name: "x", role: "worker" } : undefined,
      });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, "forbidden");
    }
  });

  it("lets viewers read but not create, change or delete", async () => {
    const token = callers["B viewer"]!;
    const own = await t.createKey(callers["B admin"]!, { role: "worker" });
    assert.equal((await t.api("GET", "/v1/api-keys", { token })).status, 200);
    assert.equal((await t.api("GET", `/v1/api-keys/${own.id}`, { token })).status, 200);
    assert.equal((await t.api("GET", "/v1/audit-events", { token })).status, 200);
    assert.equal(
      (await t.api("POST", "/v1/api-keys", { token, body: { name: "x", role: "worker" } })).status,
      403,
    );
    assert.equal(
      (await t.api("PATCH", `/v1/api-keys/${own.id}`, { token, body: { active: false } })).status,
      403,
    );
    assert.equal((await t.api("DELETE", `/v1/api-keys/${own.id}`, { token })).status, 403);
  });

  it("lets admin keys manage their tenant's keys but never tenants", async () => {
    const token = callers["B admin key"]!;
    const created = await t.api<{ apiKey: { id: string } }>("POST", "/v1/api-keys", {
      token,
      body: { name: "made by key", role: "worker" },
    });
    assert.equal(created.status, 201);
    assert.equal((await t.api("DELETE", `/v1/api-keys/${created.body.apiKey.id}`, { token })).status, 204);
    assert.equal((await t.api("GET", "/v1/tenants", { token })).status, 403);
    assert.equal(
      (await t.api("GET", "/v1/tenants", { token: callers["B admin"] })).status,
      403,
      "tenant admins are not platform admins",
    );
  });
});

describe("JWT attacks", () => {
  let t: TestStack;
  let good: string;
  let signingJwk: JWK;
  let kid: string;

  before(async () => {
    t = await startTestStack();
    const { key } = await t.createKey(await t.login(), { role: "worker" });
    good = (await t.exchange(key)).body.accessToken as string;
    // White-box: read the real signing key to forge tokens that differ from valid ones in one claim only.
    const connection = await mongoose
      .createConnection(t.stack.database.url, { dbName: t.dbName })
      .asPromise();
    const row = await connection.collection("signing_keys").find().sort({ createdAt: -1 }).limit(1).next();
    await connection.close();
    signingJwk = row!.privateJwk as JWK;
    kid = row!._id as unknown as string;
  });
  after(() => t.stop());

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claimsOf = (token: string) =>
    JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

  const refused = async (token: string, label: string) => {
    const res = await t.api("GET", "/v1/me", { token });
    assert.equal(res.status, 401, `${label} accepted`);
    assert.match(String(res.body.code), /^(invalid_token|token_expired|missing_token)$/, label);
  };

  const forge = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid, ...header })
      .sign(await importJWK(signingJwk, "EdDSA"));

  it("accepts the genuine token (control)", async () => {
    assert.equal((await t.api("GET", "/v1/me", { token: good })).status, 200);
    assert.equal(
      (await t.api("GET", "/v1/me", { token: await forge(claimsOf(good)) })).status,
      200,
      "re-signed copy must verify",
    );
  });

  it("refuses alg none", async () => {
    await refused(`${b64({ alg: "none", typ: "JWT" })}.${b64(claimsOf(good))}.`, "alg none");
  });

  it("refuses HS256 signed with the public key", async () => {
    const header = b64({ alg: "HS256", typ: "JWT", kid });
    const body = b64(claimsOf(good));
    for (const secret of [
      Buffer.from(signingJwk.x!, "base64url"),
      Buffer.from(JSON.stringify({ kty: "OKP", crv: "Ed25519", x: signingJwk.x })),
    ]) {
      const sig = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
      await refused(`${header}.${body}.${sig}`, "HS256 with public key");
    }
  });

  it("refuses an unknown kid and a key not in the JWKS", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const token = await new SignJWT(claimsOf(good))
      .setProtectedHeader({ alg: "EdDSA", kid: "attacker-kid" })
      .sign(privateKey);
    await refused(token, "unknown kid");
    // Unknown kids in a row: each answered at once, none held until the JWKS may be fetched again.
    const started = performance.now();
    for (let i = 0; i < 5; i++) await refused(token, `unknown kid again (${i})`);
    const each = (performance.now() - started) / 5;
    assert.ok(each < 500, `an unknown kid took ${Math.round(each)} ms to refuse`);
    const sameKid = await new SignJWT(claimsOf(good))
      .setProtectedHeader({ alg: "EdDSA", kid })
      .sign(privateKey);
    await refused(sameKid, "foreign key with a known kid");
  });

  it("refuses expired, wrong-audience and wrong-issuer tokens", async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await forge({ ...claimsOf(good), iat: now - 120, exp: now - 60 }), "expired");
    await refused(await forge({ ...claimsOf(good), aud: "someone-else" }), "wrong aud");
    await refused(await forge({ ...claimsOf(good), iss: "https://evil.example" }), "wrong iss");
    const { exp: _exp, ...noExp } = claimsOf(good);
    await refused(await forge(noExp), "no exp");
    await refused(await forge({ ...claimsOf(good), role: "superuser" }), "unknown role");
  });

  it("refuses a tampered payload", async () => {
    const [header, , signature] = good.split(".");
    const escalated = b64({ ...claimsOf(good), role: "admin", tid: "t-other" });
    await refused(`${header}.${escalated}.${signature}`, "tampered payload");
    await refused(`${good.slice(0, -4)}AAAA`, "tampered signature");
    await refused("not.a.jwt", "garbage");
  });
});
