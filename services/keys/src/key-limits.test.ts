/** Key limits: which site ids, worker ids and address ranges are accepted, and address matching. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "@facerec/shared/errors.ts";
import { addressAllowed, validCidrs, validSiteIds } from "./key-limits.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : "not an AppError";
  }
  return "accepted";
};

describe("key limits", () => {
  it("normalises ranges: single addresses become /32 or /128, IPv4-mapped IPv6 becomes IPv4, duplicates go", () => {
    assert.deepEqual(validCidrs(["10.0.0.0/8", "192.0.2.1", "::1", "::ffff:10.1.2.3/32", "10.0.0.0/8"]), [
      "10.0.0.0/8",
      "192.0.2.1/32",
      "::1/128",
      "10.1.2.3/32",
    ]);
  });

  it("refuses malformed ranges and ids with stable codes", () => {
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/8/8",
      "10.0.0/8",
      "example.com",
      "10.0.0.0/-1",
      "",
    ]) {
      assert.equal(
        codeOf(() => validCidrs([bad])),
        "invalid_cidr",
        bad,
      );
    }
    assert.equal(
      codeOf(() => validSiteIds(["a b"])),
      "invalid_site_id",
    );
    assert.equal(
      codeOf(() => validSiteIds(Array.from({ length: 101 }, (_, i) => `s${i}`))),
      "invalid_site_id",
    );
    assert.equal(
      codeOf(() => validSiteIds(["s-1", "site.2_x"])),
      "accepted",
    );
  });

  it("matches IPv4, IPv6 and IPv4-mapped IPv6 client addresses", () => {
    const ranges = validCidrs(["10.20.0.0/16", "2001:db8::/32"]);
    assert.equal(addressAllowed(ranges, "10.20.3.4"), true);
    assert.equal(addressAllowed(ranges, "::ffff:10.20.3.4"), true);
    assert.equal(addressAllowed(ranges, "10.21.0.1"), false);
    assert.equal(addressAllowed(ranges, "2001:db8:1::5"), true);
    assert.equal(addressAllowed(ranges, "2001:db9::5"), false);
    assert.equal(addressAllowed(ranges, ""), false, "an unknown address is outside every range");
    assert.equal(addressAllowed([], ""), true, "a key without ranges allows any address");
  });
});
