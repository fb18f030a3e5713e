/** The worker guide's 401 causes and immediate revocation, against the real stack. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";

describe("POST /v1/auth/token failures", () => {
  let t: TestStack;
  let admin: string;
  before(async () => {
    t = await startTestStack();
    admin = await t.login();
  });
  after(() => t.stop());

  const expect401 = async (apiKey: string, tenantId: string, code: string) => {
    const res = await t.exchange(apiKey, tenantId);
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(res.body.code, code);
    assert.equal(res.body.status, 401);
    assert.ok(String(res.body.detail).length > 10);
  };

  it("answers invalid_api_key for malformed, mistyped, unknown and wrong-secret keys", async () => {
    const { key } = await t.createKey(admin, { role: "worker" });
    await expect401("abcd1234efgh5678ijkl9012mnop3456qrst7890uvwx", TENANT, "invalid_api_key");
    await expect401(`${key.slice(0, -1)}${key.endsWith("a") ? "b" : "a"}`, TENANT, "invalid_api_key");
    // Well-formed with a valid checksum, but its key was deleted.
    const { key: other } = await t.createKey(admin, { role: "worker" });
    await t.api("DELETE", `/v1/api-keys/${other.slice(4, 16)}`, { token: admin });
    await expect401(other, TENANT, "invalid_api_key");
  });

  it("answers key_inactive for a deactivated key", async () => {
    const { id, key } = await t.createKey(admin, { role: "worker" });
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
    await expect401(key, TENANT, "key_inactive");
  });

  it("answers key_expired once the expiration passes", async () => {
    const { key } = await t.createKey(admin, {
      role: "worker",
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    assert.equal((await t.exchange(key)).status, 200);
    await sleep(1600);
    await expect401(key, TENANT, "key_expired");
  });

  it("answers tenant_mismatch when TENANT_ID is not the key's tenant", async () => {
    const { key } = await t.createKey(admin, { role: "worker" });
    await expect401(key, "t-someone-else", "tenant_mismatch");
  });

  it("never issues a token that outlives its key", async () => {
    const { key } = await t.createKey(admin, {
      role: "worker",
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
    });
    const res = await t.exchange(key);
    assert.ok((res.body.expiresIn as number) <= 120);
  });
});

describe("immediate revocation", () => {
  let t: TestStack;
  let admin: string;
  before(async () => {
    t = await startTestStack();
    admin = await t.login();
  });
  after(() => t.stop());

  /** Issues a token for a fresh key, revokes the key with `revoke`, and returns ms until the token is refused. */
  const measure = async (revoke: (id: string) => Promise<void>, expiresAt?: string) => {
    const { id, key } = await t.createKey(admin, { role: "worker", ...(expiresAt ? { expiresAt } : {}) });
    const token = (await t.exchange(key)).body.accessToken as string;
    assert.equal((await t.api("GET", "/v1/me", { token })).status, 200);
    await revoke(id);
    const revokedAt = performance.now();
    for (;;) {
      const res = await t.api("GET", "/v1/me", { token });
      if (res.status === 401) {
        assert.match(String(res.body.code), /^token_(revoked|expired)$/);
        return { ms: performance.now() - revokedAt, key };
      }
      assert.equal(res.status, 200);
      if (performance.now() - revokedAt > 5000) assert.fail("token still accepted 5 s after revocation");
      await sleep(10);
    }
  };

  it("refuses a deactivated key's tokens within 1 s (max over 20 trials) and its exchanges at once", async () => {
    const delays: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const { ms, key } = await measure(async (id) => {
        await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
      });
      delays.push(ms);
      assert.equal((await t.exchange(key)).body.code, "key_inactive");
    }
    const max = Math.max(...delays);
    console.log(
      `deactivation → token refused: max ${max.toFixed(0)} ms, median ${delays.sort((a, b) => a - b)[10]!.toFixed(0)} ms over 20 trials`,
    );
    assert.ok(max <= 1000, `max delay ${max} ms`);
  });

  it("refuses a deleted key's tokens within 1 s", async () => {
    const { ms } = await measure(async (id) => {
      assert.equal((await t.api("DELETE", `/v1/api-keys/${id}`, { token: admin })).status, 204);
    });
    assert.ok(ms <= 1000, `delay ${ms} ms`);
  });

  it("refuses an expired key's tokens within 1 s of its expiry", async () => {
    const expiresAt = new Date(Date.now() + 2000);
    const { ms } = await measure(async () => {
      await sleep(Math.max(0, expiresAt.getTime() - Date.now()));
    }, expiresAt.toISOString());
    assert.ok(ms <= 1000, `delay ${ms} ms`);
  });

  it("does not revive old tokens when a key is reactivated", async () => {
    const { id, key } = await t.createKey(admin, { role: "worker" });
    const old = (await t.exchange(key)).body.accessToken as string;
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: false } });
    await sleep(1100);
    await t.api("PATCH", `/v1/api-keys/${id}`, { token: admin, body: { active: true } });
    await sleep(1100);
    assert.equal((await t.api("GET", "/v1/me", { token: old })).status, 401);
    const fresh = await t.exchange(key);
    assert.equal((await t.api("GET", "/v1/me", { token: fresh.body.accessToken as string })).status, 200);
  });
});
