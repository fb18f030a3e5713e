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

  /** Starts a new family (the session, whose id access tokens carry as `sid`) for a fresh sign-in. */
  async open(userId: string): Promise<{ sessionId: string; refreshToken: string }> {
    const sessionId = crypto.randomUUID();
    return { sessionId, refreshToken: await this.#issue(userId, sessionId) };
  }

  /**
   * Retires `token` and returns its successor with the user and session it belongs to. A token used
   * twice ends its session; `onReuse` is told which, so its access tokens can be revoked too.
   */
  async rotate(
    token: string,
    onReuse: (ended: { userId: string; sessionId: string }) => Promise<void>,
  ): Promise<{ userId: string; sessionId: string; refreshToken: string }> {
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
      return {
        userId: retired.userId,
        sessionId: retired.familyId,
        refreshToken: await this.#issue(retired.userId, retired.familyId),
      };
    }
    const known = await this.#tokens.findById(digest(token)).lean<RefreshTokenDoc>();
    if (known?.rotatedAt && !known.revokedAt) {
      await this.#tokens.updateMany(
        { familyId: known.familyId, revokedAt: null },
        { $set: { revokedAt: now } },
      );
      await onReuse({ userId: known.userId, sessionId: known.familyId });
      throw unauthenticated(
        "refresh_token_reused",
        "this session was used twice and has been ended for safety; sign in again",
      );
    }
    throw unauthenticated("invalid_refresh_token", "no valid session; sign in again");
  }

  /** Ends the family of `token` and says which session it was; unknown tokens are ignored. */
  async close(token: string): Promise<{ userId: string; sessionId: string } | undefined> {
    const known = await this.#tokens.findById(digest(token)).lean<RefreshTokenDoc>();
    if (!known) return undefined;
    await this.#tokens.updateMany(
      { familyId: known.familyId, revokedAt: null },
      { $set: { revokedAt: new Date() } },
    );
    return { userId: known.userId, sessionId: known.familyId };
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
