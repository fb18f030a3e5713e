/**
 * Admin sessions against the real stack: per-account sign-in throttling (many addresses cannot guess
 * one password fast) and sign-out that ends the session's access tokens too.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type ApiResponse,
  startTestStack,
  type TestStack,
} from "@facerec/shared/stack/test-stack.ts";
import { until } from "@facerec/shared/test-support/until.ts";

describe("admin sign-in and sign-out", () => {
  let t: TestStack;
  before(async () => {
    // Addresses come from X-Forwarded-For (as behind a proxy), and the per-address limit is out of the way.
    t = await startTestStack({ TRUST_PROXY: "true", LOGIN_RATE_LIMIT: "1000" });
  });
  after(() => t.stop());

  const signIn = (email: string, password: string, from: string): Promise<ApiResponse> =>
    t.api("POST", "/v1/auth/login", { body: { email, password }, headers: { "x-forwarded-for": from } });

  it("after 5 failures from 5 addresses, locks those addresses out for a doubling delay, not a clean one", async () => {
    const attackers = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"];
    for (const from of attackers) assert.equal((await signIn(ADMIN_EMAIL, "guess", from)).status, 401);

    // Even the right password is not checked from an address that failed: guessing stops paying.
    const locked = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, attackers[0]!);
    assert.equal(locked.status, 429, JSON.stringify(locked.body));
    assert.equal(locked.headers.get("content-type"), "application/problem+json");
    assert.equal(locked.body.code, "account_throttled");

    // The real admin, from an address that never failed, signs in at once.
    const admin = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, "203.0.113.50");
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    const token = String(admin.body.accessToken);
    const audit = await t.api<{ auditEvents: { action: string; actor: { remoteAddress: string } }[] }>(
      "GET",
      "/v1/audit-events",
      { token },
    );
    const throttled = audit.body.auditEvents.find((e) => e.action === "user.sign_in_throttled");
    assert.equal(throttled?.actor.remoteAddress, attackers[4], "the address that tipped it is audited");
  });

  it("doubles the delay with each further failure, for unknown emails too", async () => {
    const email = "nobody-here@example.com"; // unknown emails are throttled alike, so 429 reveals nothing
    const from = "192.0.2.9";
    for (let i = 0; i < 5; i++) assert.equal((await signIn(email, "guess", from)).status, 401);
    assert.equal((await signIn(email, "guess", from)).body.code, "account_throttled");
    await sleep(1100); // the first lock is 1 s
    assert.equal((await signIn(email, "guess", from)).status, 401, "one more try after the lock");
    const second = await signIn(email, "guess", from);
    assert.equal(second.body.code, "account_throttled");
    assert.match(String(second.body.detail), /try again in 2 s/);
  });

  it("counts guesses sent in parallel from many addresses, every one", async () => {
    const email = "parallel@example.com";
    const addresses = Array.from({ length: 8 }, (_, i) => `192.0.2.${100 + i}`);
    const answers = await Promise.all(addresses.map((from) => signIn(email, "guess", from)));
    assert.ok(answers.every((a) => a.status === 401 || a.body.code === "account_throttled"));
    // 8 failures: the last lock is 2^(8-5) = 8 s; lost counts would leave a shorter one.
    const next = await signIn(email, "guess", addresses[0]!);
    assert.equal(next.body.code, "account_throttled");
    const seconds = Number(/try again in (\d+) s/.exec(String(next.body.detail))?.[1]);
    assert.ok(seconds > 4 && seconds <= 8, `locked for ${seconds} s`);
  });

  it("signing out ends the session's access tokens within a second, and only that session's", async () => {
    const from = "203.0.113.77";
    const first = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, from);
    const other = await signIn(ADMIN_EMAIL, ADMIN_PASSWORD, from);
    const token = String(first.body.accessToken);
    const cookie = (first.headers.getSetCookie() ?? []).map((c) => c.split(";")[0]).join("; ");
    assert.match(cookie, /facerec_refresh=/);
    assert.equal((await t.api("GET", "/v1/me", { token })).status, 200);

    const out = await t.api("POST", "/v1/auth/logout", { headers: { cookie } });
    assert.equal(out.status, 204);
    const refused = await until(
      "the signed-out session's token is refused",
      async () => {
        const me = await t.api("GET", "/v1/me", { token });
        return me.status === 401 ? me : undefined;
      },
      1000,
    );
    assert.equal(refused.body.code, "session_ended");
    assert.equal(
      (await t.api("GET", "/v1/me", { token: String(other.body.accessToken) })).status,
      200,
      "another session of the same admin goes on",
    );
  });
});
