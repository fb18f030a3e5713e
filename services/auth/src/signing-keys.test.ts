/** Signing-key rotation over the real AuthService gRPC API: new tokens use the new key, old ones stay valid. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { callUnary, internalClient } from "@facerec/shared/grpc/clients.ts";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";

const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).kid as string;

describe("signing-key rotation", () => {
  let t: TestStack;
  let auth: AuthServiceClient;
  before(async () => {
    t = await startTestStack();
    auth = internalClient(AuthServiceClient, `127.0.0.1:${t.stack.ports.auth}`);
  });
  after(async () => {
    auth.close();
    await t.stop();
  });

  it("signs new tokens with the new key, keeps old tokens valid and publishes both keys", async () => {
    const login = await t.api<{ accessToken: string; user: { id: string } }>("POST", "/v1/auth/login", {
      body: { email: "admin@localhost", password: "correct-horse-battery-staple" },
    });
    const oldToken = login.body.accessToken;
    const { key } = await t.createKey(oldToken, { role: "worker" });
    const oldWorkerToken = (await t.exchange(key)).body.accessToken as string;
    const actor = {
      tenantId: TENANT,
      actorId: login.body.user.id,
      actorType: ActorType.ACTOR_TYPE_USER,
      displayName: "admin@localhost",
      remoteAddress: "127.0.0.1",
      userAgent: "test",
    };

    // The gateway fetches the key set now, as any traffic would make it do.
    assert.equal((await t.api("GET", "/v1/me", { token: oldToken })).status, 200);
    const { kid, activeFrom } = await callUnary(auth.rotateSigningKey.bind(auth), { actor });
    assert.notEqual(kid, kidOf(oldToken));
    const jwksAtOnce = await t.api<{ keys: { kid: string }[] }>("GET", "/v1/auth/jwks");
    assert.ok(
      jwksAtOnce.body.keys.some((k) => k.kid === kid),
      "published at once",
    );
    assert.notEqual(kidOf((await t.exchange(key)).body.accessToken as string), kid, "not signing yet");
    await new Promise((r) => setTimeout(r, activeFrom!.getTime() - Date.now()));
    const newWorkerToken = (await t.exchange(key)).body.accessToken as string;
    assert.equal(kidOf(newWorkerToken), kid);

    // The gateway's key set predates the new key: the unknown kid makes it refetch (the last fetch
    // is more than the refetch interval ago, since the key signs only that much later) instead of refusing.
    for (const token of [newWorkerToken, oldWorkerToken, oldToken]) {
      assert.equal((await t.api("GET", "/v1/me", { token })).status, 200);
    }
    const jwks = await t.api<{ keys: { kid: string }[] }>("GET", "/v1/auth/jwks");
    assert.deepEqual(jwks.body.keys.map((k) => k.kid).sort(), [kid, kidOf(oldToken)].sort());

    const audit = await t.api<{ auditEvents: { action: string; targetId: string }[] }>(
      "GET",
      "/v1/audit-events",
      { token: oldToken },
    );
    assert.ok(audit.body.auditEvents.some((e) => e.action === "signing_key.rotated" && e.targetId === kid));
  });

  it("refuses rotation to anyone but a platform admin", async () => {
    const tenantAdmin = await t.createTenant("t-rotate");
    const me = await t.api<{ user: { id: string } }>("GET", "/v1/me", { token: tenantAdmin });
    const actor = {
      tenantId: "t-rotate",
      actorId: me.body.user.id,
      actorType: ActorType.ACTOR_TYPE_USER,
      displayName: "",
      remoteAddress: "",
      userAgent: "",
    };
    await assert.rejects(
      callUnary(auth.rotateSigningKey.bind(auth), { actor }),
      (err: { code: string }) => err.code === "forbidden",
    );
  });
});
