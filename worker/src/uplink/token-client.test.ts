import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KEY_EXPIRY_WARNING_MS, KeyRejected, keyExpiryWarning } from "./token-client.ts";

describe("KeyRejected", () => {
  it("names the fix for each refusal of a token exchange, the address limit included", () => {
    const fixes = ["invalid_api_key", "key_inactive", "key_expired", "tenant_mismatch", "ip_not_allowed"].map(
      (code) => new KeyRejected(code, "detail").fix,
    );
    assert.match(fixes[4]!, /allowed addresses in the dashboard/);
    assert.equal(new Set(fixes).size, 5, "each cause has its own fix");
    assert.match(new KeyRejected("something_new", "detail").fix, /check the API key and TENANT_ID/);
  });
});

describe("keyExpiryWarning", () => {
  const DAY = 24 * 60 * 60 * 1000;
  const now = Date.parse("2026-12-06T12:00:00Z");

  it("warns in the key's last 7 days, at most once a day, with the date and what to do", () => {
    assert.equal(keyExpiryWarning(undefined, now, undefined), undefined, "a key that never expires");
    assert.equal(keyExpiryWarning(now + KEY_EXPIRY_WARNING_MS + 1, now, undefined), undefined);
    const warning = keyExpiryWarning(now + 3 * DAY, now, undefined);
    assert.match(
      warning!,
      /^the API key expires in 3 days \(2026-12-09T12:00:00\.000Z\): extend it in the dashboard/,
    );
    assert.equal(keyExpiryWarning(now + 3 * DAY, now, now - DAY / 2), undefined, "warned today already");
    assert.match(keyExpiryWarning(now + 3 * DAY, now, now - DAY)!, /in 3 days/, "again the next day");
    assert.match(keyExpiryWarning(now + DAY / 2, now, undefined)!, /expires within a day/);
  });
});
