import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { newWebhookSecret, signatureHeader, verifySignature } from "./signature.ts";

describe("webhook signatures", () => {
  const secret = newWebhookSecret();
  const body = JSON.stringify({ id: "evt_1", type: "sighting.started", data: { sighting: { id: "s1" } } });
  const now = 1_800_000_000;

  it("is t=<seconds>,v1=<hex HMAC-SHA-256 of '<t>.<body>'>, which a receiver recomputes with any HMAC library", () => {
    const header = signatureHeader(secret, body, now);
    const expected = createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    assert.equal(header, `t=${now},v1=${expected}`);
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  });

  it("verifies for the receiver within the tolerance, and refuses a changed body, another secret or an old timestamp", () => {
    const header = signatureHeader(secret, body, now);
    assert.equal(verifySignature(header, body, secret, { nowSeconds: now + 10 }), true);
    assert.equal(verifySignature(header, Buffer.from(body), secret, { nowSeconds: now }), true);
    assert.equal(verifySignature(header, body.replace("s1", "s2"), secret, { nowSeconds: now }), false);
    assert.equal(verifySignature(header, body, newWebhookSecret(), { nowSeconds: now }), false);
    assert.equal(verifySignature(header, body, secret, { nowSeconds: now + 301 }), false);
    assert.equal(
      verifySignature(header, body, secret, { nowSeconds: now + 3600, toleranceSeconds: 7200 }),
      true,
    );
  });

  it("accepts any of several v1 values and refuses malformed headers", () => {
    const good = signatureHeader(secret, body, now).split(",v1=")[1];
    assert.equal(
      verifySignature(`t=${now},v1=${"0".repeat(64)},v1=${good}`, body, secret, { nowSeconds: now }),
      true,
    );
    for (const header of [undefined, "", "v1=abc", `t=${now}`, `t=soon,v1=${good}`, `t=${now},v1=zz`])
      assert.equal(verifySignature(header, body, secret, { nowSeconds: now }), false, String(header));
  });
});
