import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyRejected } from "./token-client.ts";

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
