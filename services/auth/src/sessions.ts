/**
 * Refresh-token rotation with reuse detection: every refresh retires the presented token and issues
 * a successor in the same family; presenting a retired token again means it was copied, so the
 * whole family is revoked and both the thief and the victim must sign in again.
 */
import { createHash, randomBytes } from "node:crypto";
import { unauthenticated } from "@facerec/shared/errors.ts";
import type { AuthModels, RefreshTokenDoc } from "./models.ts";

const digest = (token: string) => createHash("sha256").update(token).digest("base64url");

export class Sessions {
  readonly #tokens: AuthModels["refreshTokens"];
  readonly #ttlMs: number;

  constructor(models: AuthModels, ttlSeconds: number) {
    this.#tokens = models.refreshTokens;
    this.#ttlMs = ttlSeconds * 1000;
  }

  get ttlSeconds(): number {
    return this.#ttlMs / 1000;
  }

  /** Starts a new family for a fresh sign-in. */
  open(userId: string): Promise<string> {
    return this.#issue(userId, crypto.randomUUID());
  }

  /** Retires `token` and returns its successor with the user it belongs to. */
  async rotate(token: string): Promise<{ userId: string; refreshToken: string }> {
    const now = new Date();
    const retired = await this.#tokens
      .findOneAndUpdate(
        { _id: digest(token), rotatedAt: null, revokedAt: null },
        { $set: { rotatedAt: now } },
      )
      .lean<RefreshTokenDoc>();
    if (retired) {
      if (retired.expiresAt <= now)
        throw unauthenticated("invalid_refresh_token", "session has expired; sign in again");
      return { userId: retired.userId, refreshToken: await this.#issue(retired.userId, retired.familyId) };
    }
    const known = await this.#tokens.findById(digest(token)).lean<RefreshTokenDoc>();
    if (known?.rotatedAt && !known.revokedAt) {
      await this.#tokens.updateMany(
        { familyId: known.familyId, revokedAt: null },
        { $set: { revokedAt: now } },
      );
      throw unauthenticated(
        "refresh_token_reused",
        "this session was used twice and has been ended for safety; sign in again",
      );
    }
    throw unauthenticated("invalid_refresh_token", "no valid session; sign in again");
  }

  /** Ends the family of `token`; unknown tokens are ignored. */
  async close(token: string): Promise<void> {
    const known = await this.#tokens.findById(digest(token)).lean<RefreshTokenDoc>();
    if (known)
      await this.#tokens.updateMany(
        { familyId: known.familyId, revokedAt: null },
        { $set: { revokedAt: new Date() } },
      );
  }

  /** Deletes tokens past their expiry (no TTL indexes on FerretDB). */
  async sweep(): Promise<void> {
    await this.#tokens.deleteMany({ expiresAt: { $lt: new Date() } });
  }

  async #issue(userId: string, familyId: string): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    await this.#tokens.create({
      _id: digest(token),
      familyId,
      userId,
      expiresAt: new Date(now + this.#ttlMs),
      createdAt: new Date(now),
    });
    return token;
  }
}
