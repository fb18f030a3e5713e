/** Key verification against a real database: the checks and their order, and lastUsedAt throttling. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { VerifyFailure } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import type { Connection } from "mongoose";
import { ApiKeys } from "./api-keys.ts";
import { AuditLog } from "./audit-log.ts";
import { formatKey, parseKey } from "./key-format.ts";
import { KeyUsage } from "./key-usage.ts";
import { keysModels } from "./models.ts";
import { RevocationHub } from "./revocation-hub.ts";

const actor = {
  tenantId: "t-a",
  actorId: "u1",
  actorType: ActorType.ACTOR_TYPE_USER,
  displayName: "a@x",
  remoteAddress: "::1",
  userAgent: "",
};

describe("ApiKeys.verify", () => {
  let db: TestDatabase;
  let connection: Connection;
  let apiKeys: ApiKeys;
  let audit: AuditLog;
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    const models = await keysModels(connection);
    const log = createLogger("test", "silent");
    const revocations = new RevocationHub({ models, log, pollMs: 200 });
    audit = new AuditLog(models);
    apiKeys = new ApiKeys({
      models,
      audit,
      revocations,
      pepper: randomBytes(32),
      log,
      usage: new KeyUsage(models, log),
    });
  });
  after(async () => {
    await connection.close();
    await db.stop();
  });

  it("refuses a well-formed key with a valid checksum and a known id but the wrong secret", async () => {
    const { key } = await apiKeys.create(actor, { name: "k", role: "worker" });
    const id = key.slice(4, 16);
    // Same id, another secret, valid checksum: only the HMAC comparison can tell.
    const impostor = formatKey(id, "x".repeat(32));
    assert.equal(parseKey(impostor), id, "the forged key passes the format check");
    assert.equal(
      (await apiKeys.verify(impostor, "t-a")).failure,
      VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY,
    );
    assert.equal((await apiKeys.verify(key, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
  });

  it("checks validity, then activity, then expiry, then tenant", async () => {
    const { apiKey, key } = await apiKeys.create(actor, {
      name: "k",
      role: "worker",
      expiresAt: new Date(Date.now() + 300),
    });
    assert.equal((await apiKeys.verify(key, "t-b")).failure, VerifyFailure.VERIFY_FAILURE_TENANT_MISMATCH);
    // The key is now in the verified-key cache: expiry must still be seen from the cached expiresAt.
    assert.equal((await apiKeys.verify(key, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal((await apiKeys.verify(key, "t-b")).failure, VerifyFailure.VERIFY_FAILURE_KEY_EXPIRED);
    await apiKeys.update(actor, apiKey!.id, { active: false });
    assert.equal((await apiKeys.verify(key, "t-b")).failure, VerifyFailure.VERIFY_FAILURE_KEY_INACTIVE);
    assert.equal(
      (await apiKeys.verify(`${key.slice(0, -1)}0`, "t-b")).failure,
      VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY,
    );
  });

  it("accepts a rotated key's new secret at once on a replica that had the key cached, the old one only during the grace period", async () => {
    const models = await keysModels(connection);
    const log = createLogger("test", "silent");
    const pepper = randomBytes(32);
    const replica = (pollMs: number) =>
      new ApiKeys({
        models,
        audit: new AuditLog(models),
        revocations: new RevocationHub({ models, log, pollMs }),
        usage: new KeyUsage(models, log),
        pepper,
        log,
      });
    const [a, b] = [replica(200), replica(200)];
    const { apiKey, key: oldKey } = await a.create(actor, { name: "k", role: "worker" });
    assert.equal(
      (await b.verify(oldKey, "t-a")).failure,
      VerifyFailure.VERIFY_FAILURE_UNSPECIFIED,
      "now cached on b",
    );
    const { key: newKey } = await a.rotate(actor, apiKey!.id, 1);
    const fresh = await b.verify(newKey, "t-a");
    assert.equal(fresh.failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
    assert.equal(fresh.secretExpiresAt, undefined);
    assert.ok(fresh.issueAfter, "tokens must be issued after the rotation");
    const old = await a.verify(oldKey, "t-a");
    assert.equal(old.failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
    assert.ok(old.secretExpiresAt && old.secretExpiresAt.getTime() <= Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await a.verify(oldKey, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY);
    assert.equal((await b.verify(newKey, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
  });

  it("does the same work for an unknown key id as for a known, cached one with a wrong secret: one read each", async () => {
    const models = await keysModels(connection);
    const log = createLogger("test", "silent");
    const keys = new ApiKeys({
      models,
      audit: new AuditLog(models),
      revocations: new RevocationHub({ models, log, pollMs: 200 }),
      pepper: randomBytes(32),
      log,
      usage: new KeyUsage(models, log),
    });
    let reads = 0;
    const findById = models.apiKeys.findById.bind(models.apiKeys);
    models.apiKeys.findById = ((...args: Parameters<typeof findById>) => {
      reads += 1;
      return findById(...args);
    }) as typeof findById;
    try {
      const { key } = await keys.create(actor, { name: "k", role: "worker" });
      await keys.verify(key, "t-a"); // cached now, as a busy worker's key is
      const known = formatKey(key.slice(4, 16), "y".repeat(32));
      const unknown = formatKey("ZZZZZZZZZZZZ", "y".repeat(32));
      for (const probe of [known, unknown]) {
        const before = reads;
        for (let i = 0; i < 5; i++) {
          assert.equal(
            (await keys.verify(probe, "t-a")).failure,
            VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY,
          );
        }
        assert.equal(reads - before, 5, "one database read per attempt, known id or not");
      }
    } finally {
      models.apiKeys.findById = findById;
    }
  });

  it("announces each key expiring within 7 days once, as an api_key.expiring audit event, and again for a new date", async () => {
    const day = 24 * 3600_000;
    const { apiKey: soon } = await apiKeys.create(actor, {
      name: "soon",
      role: "worker",
      expiresAt: new Date(Date.now() + 3 * day),
    });
    await apiKeys.create(actor, {
      name: "later",
      role: "worker",
      expiresAt: new Date(Date.now() + 30 * day),
    });
    const events = async () =>
      (await audit.list(actor, 500, "")).auditEvents.filter((e) => e.action === "api_key.expiring");
    const before = (await events()).length;
    await Promise.all([apiKeys.announceExpiring(), apiKeys.announceExpiring()]);
    await apiKeys.announceExpiring();
    const announced = (await events()).slice(0, (await events()).length - before);
    assert.deepEqual(
      announced.map((e) => e.targetId),
      [soon!.id],
      "once, whichever caller got there first",
    );
    await apiKeys.update(actor, soon!.id, { expiresAt: new Date(Date.now() + 2 * day) });
    await apiKeys.announceExpiring();
    assert.equal((await events()).length - before, 2, "a new expiration is announced again");
  });

  it("lets one of two racing rotations win; the other is told to reload", async () => {
    const { apiKey } = await apiKeys.create(actor, { name: "k", role: "worker" });
    const results = await Promise.allSettled([
      apiKeys.rotate(actor, apiKey!.id, 0),
      apiKeys.rotate(actor, apiKey!.id, 0),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    const key = (won[0] as PromiseFulfilledResult<{ key: string }>).value.key;
    assert.equal((await apiKeys.verify(key, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
  });

  it("records lastUsedAt on first use and at most every 30 s after", async () => {
    const { apiKey, key } = await apiKeys.create(actor, { name: "k", role: "worker" });
    await apiKeys.verify(key, "t-a");
    await new Promise((r) => setTimeout(r, 100));
    const first = (await apiKeys.get(actor, apiKey!.id)).lastUsedAt;
    assert.ok(first, "set on first use");
    await apiKeys.verify(key, "t-a");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      (await apiKeys.get(actor, apiKey!.id)).lastUsedAt?.getTime(),
      first.getTime(),
      "not rewritten within 30 s",
    );
  });
});
