/**
 * Revocation fails closed, against real processes: a gateway or ingest started while the keys
 * service is down accepts no token until its revocation feed has synced, and reports not ready
 * meanwhile; a change that fails because the audit log (keys service) is down has no effect.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { fromGrpcError } from "@facerec/shared/errors.ts";
import { callUnary, HealthCheck, internalClient } from "@facerec/shared/grpc/clients.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import { startTestStack, TENANT, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  ingestClient,
  keyToken,
  makeBatch,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { status } from "@grpc/grpc-js";

type Problem = { code: string; status: number };
const INGEST = "facerec.ingest.v1.IngestService";

describe("revocation fails closed", () => {
  let t: TestStack;
  let client: IngestServiceClient;
  let admin: string;
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

  it("a gateway and an ingest started while the keys service is down accept no token until their feed has synced", async () => {
    const revoked = await keyToken(t, admin, { role: "viewer" });
    const deactivate = await t.api("PATCH", `/v1/api-keys/${revoked.keyId}`, {
      token: admin,
      body: { active: false },
    });
    assert.equal(deactivate.status, 200);
    assert.equal(
      (await t.api<Problem>("GET", "/v1/events", { token: revoked.token })).body.code,
      "token_revoked",
    );
    const worker = await keyToken(t, admin);

    await t.stack.kill("keys");
    await t.stack.kill("gateway");
    await t.stack.kill("ingest");
    await t.stack.start("gateway");
    await t.stack.start("ingest");
    await until("the new gateway listens", async () =>
      t.api("GET", "/healthz").then(
        (r) => r.status === 200,
        () => false,
      ),
    );
    await waitForIngest(client);

    const ready = await t.api<{ checks: Record<string, boolean> }>("GET", "/readyz");
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.keys, false);
    for (const token of [revoked.token, admin]) {
      for (const path of ["/v1/events", "/v1/workers"]) {
        const res = await t.api<Problem>("GET", path, { token });
        assert.equal(res.status, 503, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, "revocations_unavailable");
      }
    }
    const ingestHealth = new HealthCheck(`127.0.0.1:${t.stack.ports.ingest}`);
    try {
      assert.equal(await ingestHealth.serving(INGEST), false, "IngestService is NOT_SERVING before the sync");
      assert.equal(await ingestHealth.serving(), true, "the server itself is alive (liveness)");
      const refused = await new WorkerStream(client, worker.token).ended;
      assert.deepEqual([refused.code, refused.errorCode], [status.UNAVAILABLE, "revocations_unavailable"]);

      await t.stack.start("keys");
      await t.stack.waitUntilReady(30_000);
      assert.equal(await ingestHealth.serving(INGEST), true, "IngestService is SERVING once synced");
    } finally {
      ingestHealth.close();
    }
    assert.equal(
      (await t.api<Problem>("GET", "/v1/events", { token: revoked.token })).body.code,
      "token_revoked",
    );
    assert.equal((await t.api("GET", "/v1/events", { token: admin })).status, 200);
    const stream = new WorkerStream(client, worker.token);
    const [ack] = await stream.exchange(makeBatch());
    assert.equal(ack?.rejected, false);
    stream.cancel();
  });

  it("creating a user or a tenant, or rotating the signing key, while the audit log is down fails with UNAVAILABLE and changes nothing", async () => {
    const me = await t.api<{ user: { id: string } }>("GET", "/v1/me", { token: admin });
    const auth = internalClient(AuthServiceClient, `127.0.0.1:${t.stack.ports.auth}`);
    const actor = {
      tenantId: TENANT,
      actorId: me.body.user.id,
      actorType: ActorType.ACTOR_TYPE_USER,
      displayName: "admin@localhost",
      remoteAddress: "127.0.0.1",
      userAgent: "test",
    };
    const user = { email: "during-outage@example.com", password: "a-long-enough-password", role: "viewer" };
    const tenant = {
      id: "t-outage",
      name: "Outage",
      adminEmail: "admin@t-outage.example",
      adminPassword: "a-long-enough-password",
    };
    const signingKeys = async () =>
      (await t.api<{ keys: { kid: string }[] }>("GET", "/v1/auth/jwks")).body.keys.map((k) => k.kid);
    const keysBefore = await signingKeys();
    try {
      await t.stack.kill("keys");
      // Through the gateway: refused before anything happens (its revocation feed is gone).
      const viaRest = await t.api<Problem>("POST", "/v1/users", { token: admin, body: user });
      assert.equal(viaRest.status, 503);
      // Straight to the auth service, which cannot write the audit record first.
      const failures = await Promise.all([
        callUnary(auth.createUser.bind(auth), {
          actor,
          email: user.email,
          password: user.password,
          role: roleToProto("viewer"),
        }).then(() => undefined, fromGrpcError),
        callUnary(auth.createTenant.bind(auth), { actor, ...tenant }).then(() => undefined, fromGrpcError),
        callUnary(auth.rotateSigningKey.bind(auth), { actor }).then(() => undefined, fromGrpcError),
      ]);
      for (const failure of failures) assert.equal(failure?.grpcStatus, status.UNAVAILABLE);
    } finally {
      await t.stack.start("keys");
      await t.stack.waitUntilReady(30_000);
      auth.close();
    }
    assert.deepEqual(await signingKeys(), keysBefore, "no signing key was rotated in");
    // Nothing was created: the same user and tenant can be created now (409 if they existed).
    assert.equal((await t.api("POST", "/v1/users", { token: admin, body: user })).status, 201);
    const created = await t.api("POST", "/v1/tenants", { token: admin, body: tenant });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const audit = await t.api<{ auditEvents: { action: string; targetType: string }[] }>(
      "GET",
      "/v1/audit-events?pageSize=100",
      { token: admin },
    );
    assert.equal(audit.body.auditEvents.filter((e) => e.action === "user.created").length, 1);
    assert.equal(audit.body.auditEvents.filter((e) => e.action === "tenant.created").length, 1);
  });
});
