/**
 * Per-account sign-in throttling, on top of the gateway's per-address rate limit (which many
 * addresses together get around). After FREE_FAILURES wrong passwords for one email within WINDOW_MS,
 * each further failure locks the email for a doubling delay (1 s, 2 s, 4 s ... at most a minute).
 * While locked, attempts are refused unchecked, but only from addresses that already failed for
 * this email: the real admin signing in from a clean address is never locked out by an attacker,
 * and is at most slowed down after failing themself. Kept in the database, so every auth replica
 * counts the same failures; unknown emails are counted too, so throttling does not reveal accounts.
 */

import { type Backoff, backoffDelay } from "@facerec/shared/backoff.ts";
import { AppError } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";
import type { AuthModels, SignInFailureDoc } from "./models.ts";

export const FREE_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;
/** Locks double from 1 s up to a minute (no jitter: a lock is a penalty, not a retry). */
const LOCK: Backoff = { initialMs: 1000, maxMs: 60_000, jitter: "none" };
const MAX_ADDRESSES = 50;

export class SignInThrottle {
  readonly #failures: AuthModels["signInFailures"];

  constructor(models: AuthModels) {
    this.#failures = models.signInFailures;
  }

  /** Throws RESOURCE_EXHAUSTED `account_throttled` if `address` must wait before trying `email` again. */
  async check(email: string, address: string): Promise<void> {
    const doc = await this.#failures.findById(email).lean<SignInFailureDoc>();
    const now = Date.now();
    if (!doc?.lockedUntil || doc.lockedUntil.getTime() <= now || !doc.addresses.includes(address)) return;
    const seconds = Math.ceil((doc.lockedUntil.getTime() - now) / 1000);
    throw new AppError(
      status.RESOURCE_EXHAUSTED,
      "account_throttled",
      `too many failed sign-ins for this account; try again in ${seconds} s`,
    );
  }

  /** Counts a failure; returns true when it started a lock (worth an audit entry). */
  async failed(email: string, address: string): Promise<boolean> {
    const now = Date.now();
    // A window that has passed starts over.
    await this.#failures.deleteOne({ _id: email, firstFailureAt: { $lt: new Date(now - WINDOW_MS) } });
    // $inc rather than read-then-write, so parallel guesses from many addresses are all counted.
    const doc = await this.#failures
      .findOneAndUpdate(
        { _id: email },
        {
          $inc: { failures: 1 },
          $addToSet: { addresses: address },
          $setOnInsert: { firstFailureAt: new Date(now) },
        },
        { upsert: true, returnDocument: "after" },
      )
      .lean<SignInFailureDoc>();
    const over = (doc?.failures ?? 1) - FREE_FAILURES;
    if (over < 0) return false;
    const lockedUntil = new Date(now + backoffDelay(over, LOCK));
    const addresses = (doc?.addresses ?? []).slice(-MAX_ADDRESSES);
    await this.#failures.updateOne({ _id: email }, { $set: { lockedUntil, addresses } });
    return over === 0;
  }

  /** Forgets failures whose window has passed (no TTL indexes on FerretDB). */
  async sweep(): Promise<void> {
    await this.#failures.deleteMany({ firstFailureAt: { $lt: new Date(Date.now() - WINDOW_MS) } });
  }

  /** A correct password clears the email's failures. */
  async succeeded(email: string): Promise<void> {
    await this.#failures.deleteOne({ _id: email });
  }
}
