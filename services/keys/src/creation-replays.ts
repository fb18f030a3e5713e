/**
 * Idempotent key creation, as Stripe's Idempotency-Key: the first call with a key claims it in the
 * database (an insert on a unique `_id`, atomic on MongoDB and FerretDB alike, so it holds across
 * replicas); a later call by the same actor with the same key and request within 24 hours answers
 * what the first did, the secret included, and creates nothing; a different request is refused.
 *
 * The secret is shown again only to the actor who created the key (a claim is per tenant and
 * actor), and kept for the window sealed with AES-256-GCM under a key derived from the pepper, then
 * swept. That actor could get a fresh secret by rotating the key anyway; a replay is audited.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { ApiKey } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import { AppError, invalidArgument } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";
import { type GeneratedKey, generatedKey } from "./key-format.ts";
import type { CreationClaimDoc, KeysModels } from "./models.ts";

/** How long an Idempotency-Key is remembered. */
export const REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;
/**
 * A claim without an answer younger than this is a call still running: a duplicate waits for it
 * (up to WAIT_MS). An older one is a call that died between its claim and its answer: the next
 * call finishes its work, with the key id and secret the claim holds, so still only one key exists.
 */
const IN_FLIGHT_MS = 10_000;
const WAIT_MS = 5_000;
const POLL_MS = 100;
/** Printable ASCII, as the IETF Idempotency-Key draft and Stripe allow; 255 like Stripe. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A call that creates the key (`key`), or the answer of the earlier call it repeats. */
export type Claim =
  | { id: string; key: GeneratedKey; replay?: undefined }
  | { replay: { apiKey: ApiKey; key: string } };

export class CreationReplays {
  readonly #claims: KeysModels["creationClaims"];
  readonly #sealingKey: Buffer;

  constructor(models: KeysModels, pepper: Buffer) {
    this.#claims = models.creationClaims;
    this.#sealingKey = Buffer.from(hkdfSync("sha256", pepper, "", "facerec api-key creation replays", 32));
  }

  /**
   * Claims `idempotencyKey` for a creation of `fresh` described by `fingerprint`, or returns what an
   * earlier call with it answered. Throws `idempotency_key_reused` for another request under the
   * key, `idempotency_key_in_use` while the first call is still running after WAIT_MS.
   */
  async claim(
    actor: Actor,
    idempotencyKey: string,
    fingerprint: string,
    fresh: GeneratedKey,
  ): Promise<Claim> {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey))
      throw invalidArgument(
        "invalid_idempotency_key",
        "Idempotency-Key must be 1 to 255 printable ASCII characters",
      );
    const id = createHash("sha256")
      .update(JSON.stringify([actor.tenantId, actor.actorId, idempotencyKey]))
      .digest("base64url");
    const waitUntil = Date.now() + WAIT_MS;
    for (;;) {
      const now = Date.now();
      try {
        await this.#claims.create({
          _id: id,
          tenantId: actor.tenantId,
          actorId: actor.actorId,
          fingerprint,
          keyId: fresh.id,
          sealedKey: this.#seal(fresh.plaintext, id),
          createdAt: new Date(now),
        });
        return { id, key: fresh };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const earlier = await this.#claims.findById(id).lean<CreationClaimDoc>();
      if (!earlier) continue; // swept meanwhile: claim it afresh
      if (earlier.createdAt.getTime() <= now - REPLAY_WINDOW_MS) {
        await this.#claims.deleteOne({ _id: id, createdAt: earlier.createdAt });
        continue;
      }
      if (earlier.fingerprint !== fingerprint)
        throw new AppError(
          status.INVALID_ARGUMENT,
          "idempotency_key_reused",
          "this Idempotency-Key was used in the last 24 hours with a different request; use a new key for a new request",
        );
      const key = generatedKey(earlier.keyId, this.#open(bytesOf(earlier.sealedKey), id));
      if (earlier.apiKey)
        return { replay: { apiKey: ApiKey.decode(bytesOf(earlier.apiKey)), key: key.plaintext } };
      if (now - earlier.createdAt.getTime() >= IN_FLIGHT_MS) return { id, key };
      if (now >= waitUntil)
        throw new AppError(
          status.ABORTED,
          "idempotency_key_in_use",
          "a request with this Idempotency-Key is still being processed; retry in a moment",
        );
      await sleep(POLL_MS);
    }
  }

  /** Records the answer of the claim's creation, for its replays. */
  async complete(id: string, apiKey: ApiKey): Promise<void> {
    await this.#claims.updateOne(
      { _id: id },
      { $set: { apiKey: Buffer.from(ApiKey.encode(apiKey).finish()) } },
    );
  }

  /** Forgets the claims older than the window, with their sealed secrets. */
  async sweep(now = Date.now()): Promise<number> {
    const { deletedCount } = await this.#claims.deleteMany({
      createdAt: { $lte: new Date(now - REPLAY_WINDOW_MS) },
    });
    return deletedCount;
  }

  #seal(plaintext: string, claimId: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#sealingKey, iv).setAAD(Buffer.from(claimId));
    const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  }

  #open(sealed: Buffer, claimId: string): string {
    const decipher = createDecipheriv("aes-256-gcm", this.#sealingKey, sealed.subarray(0, IV_BYTES))
      .setAAD(Buffer.from(claimId))
      .setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      "utf8",
    );
  }
}
