/**
 * Idempotent key creation against a real database: what a call finds when an earlier call with its
 * Idempotency-Key is still running, died half-way, or is over 24 hours old, and what is stored.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { VerifyFailure } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { startTestDatabase, type TestDatabase } from "@facerec/shared/db/test-database.ts";
import { AppError } from "@facerec/shared/errors.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import type { Connection } from "mongoose";
import { ApiKeys } from "./api-keys.ts";
import { AuditLog } from "./audit-log.ts";
import { CreationReplays, REPLAY_WINDOW_MS } from "./creation-replays.ts";
import { generateKey } from "./key-format.ts";
import { KeyUsage } from "./key-usage.ts";
import { type KeysModels, keysModels } from "./models.ts";
import { RevocationHub } from "./revocation-hub.ts";

const actor = {
  tenantId: "t-a",
  actorId: "u1",
  actorType: ActorType.ACTOR_TYPE_USER,
  displayName: "a@x",
  remoteAddress: "::1",
  userAgent: "",
};
const input = { name: "worker", role: "worker" as const };

describe("idempotent key creation", () => {
  let db: TestDatabase;
  let connection: Connection;
  let models: KeysModels;
  let apiKeys: ApiKeys;
  let replays: CreationReplays;
  const pepper = randomBytes(32);
  before(async () => {
    db = await startTestDatabase();
    connection = await connectDatabase(db.url, db.dbName);
    models = await keysModels(connection);
    const log = createLogger("test", "silent");
    apiKeys = new ApiKeys({
      models,
      audit: new AuditLog(models),
      revocations: new RevocationHub({ models, log, pollMs: 200 }),
      pepper,
      log,
      usage: new KeyUsage(models, log),
    });
    replays = new CreationReplays(models, pepper);
  });
  after(async () => {
    await connection.close();
    await db.stop();
  });

  /** The claim a call left behind that died after claiming, as it stands in the database. */
  async function claimByHand(idempotencyKey: string, ageMs: number) {
    // The fingerprint ApiKeys.create gives `input`, taken from the claim of a real call.
    const probe = await apiKeys.create(actor, input, `probe-${crypto.randomUUID()}`);
    const { fingerprint } = (await models.creationClaims.findOne({ keyId: probe.apiKey.id }).lean())!;
    const fresh = generateKey();
    const claim = await replays.claim(actor, idempotencyKey, fingerprint, fresh);
    assert.ok(!claim.replay && claim.key.id === fresh.id, "a first claim");
    await models.creationClaims.updateOne(
      { keyId: fresh.id },
      { $set: { createdAt: new Date(Date.now() - ageMs) } },
    );
    return fresh;
  }

  it("keeps the secret sealed, not in the clear", async () => {
    const { key } = await apiKeys.create(actor, input, "sealed");
    const stored = JSON.stringify(await models.creationClaims.find().lean());
    assert.ok(!stored.includes(key.slice(4)), "no part of the secret in the stored claims");
  });

  it("finishes a call that died between its claim and its answer: its key id and secret, one key", async () => {
    const died = await claimByHand("died", 11_000);
    const answer = await apiKeys.create(actor, input, "died");
    assert.equal(answer.apiKey.id, died.id);
    assert.equal(answer.key, died.plaintext, "the secret the first call would have shown");
    assert.equal((await apiKeys.verify(answer.key, "t-a")).failure, VerifyFailure.VERIFY_FAILURE_UNSPECIFIED);
    const again = await apiKeys.create(actor, input, "died");
    assert.deepEqual([again.apiKey.id, again.key, again.replayed], [died.id, died.plaintext, true]);
    assert.equal(await models.apiKeys.countDocuments({ _id: died.id }), 1);
  });

  it("waits for a call still running, then says so (ABORTED idempotency_key_in_use)", async () => {
    await claimByHand("running", 0);
    const started = Date.now();
    await assert.rejects(
      apiKeys.create(actor, input, "running"),
      (err: unknown) => err instanceof AppError && err.code === "idempotency_key_in_use",
    );
    assert.ok(Date.now() - started >= 4_900, "it waited for the first call");
  });

  it("forgets a key after 24 hours: the sweep deletes the claim, and the key is free again", async () => {
    const first = await apiKeys.create(actor, input, "old");
    await models.creationClaims.updateMany(
      { keyId: first.apiKey.id },
      { $set: { createdAt: new Date(Date.now() - REPLAY_WINDOW_MS - 1000) } },
    );
    const expiredBeforeSweep = await apiKeys.create(actor, input, "old");
    assert.notEqual(expiredBeforeSweep.apiKey.id, first.apiKey.id, "an expired claim is not replayed");
    assert.equal(expiredBeforeSweep.replayed, false);

    await models.creationClaims.updateMany(
      {},
      { $set: { createdAt: new Date(Date.now() - REPLAY_WINDOW_MS) } },
    );
    assert.ok((await replays.sweep()) >= 1);
    assert.equal(await models.creationClaims.countDocuments(), 0);
  });

  it("refuses a malformed key", async () => {
    await assert.rejects(
      apiKeys.create(actor, input, "tab\tinside"),
      (err: unknown) => err instanceof AppError && err.code === "invalid_idempotency_key",
    );
  });
});
