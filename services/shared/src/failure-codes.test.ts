import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { VerifyFailure } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import {
  describeFailure,
  FAILURE_CODES,
  type FailureCode,
  failureCodeEntry,
  isFailureCode,
  PROBLEM_CODES,
} from "@facerec/proto/failure-codes.ts";
import { keyRefusalCode } from "./failure-codes.ts";
import { README_PATH, readmeTables, renderReadme } from "./failure-codes-readme.ts";

const codes = Object.keys(FAILURE_CODES) as FailureCode[];

describe("the failure-code table", () => {
  it("says what each code means and how to fix it, as phrases that read in a sentence", () => {
    for (const code of codes) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/, "codes are snake_case");
      const { meaning, fix } = FAILURE_CODES[code];
      for (const text of [meaning, fix]) {
        assert.ok(text.length >= 10, `${code}: ${text}`);
        assert.doesNotMatch(text, /[.;]$/, `${code}: no final stop (describeFailure adds one)`);
      }
    }
    assert.equal(
      describeFailure("key_inactive"),
      "The API key is deactivated; check key status: activate the key in the dashboard (API Keys).",
    );
  });

  it("gives every REST code an HTTP status and every ingest ack reason none", () => {
    assert.deepEqual(
      PROBLEM_CODES,
      codes.filter((code) => failureCodeEntry(code)?.http !== undefined),
    );
    const ackReasons = codes.filter((code) => failureCodeEntry(code)?.ingest === "ack");
    assert.deepEqual(ackReasons, [
      "invalid_batch",
      "batch_too_large",
      "batch_id_conflict",
      "site_not_allowed",
      "worker_not_allowed",
    ]);
    for (const code of ackReasons) assert.equal(failureCodeEntry(code)?.http, undefined, code);
    assert.equal(isFailureCode("key_inactive"), true);
    assert.equal(isFailureCode("toString"), false, "only the table's own keys");
    assert.equal(failureCodeEntry("no_such_code"), undefined);
  });

  it("names a 401 code for every way a key can fail verification, none for a key that passed", () => {
    const failures = Object.values(VerifyFailure).filter(
      (f) => f !== VerifyFailure.VERIFY_FAILURE_UNSPECIFIED && f !== VerifyFailure.UNRECOGNIZED,
    );
    const refusals = failures.map(keyRefusalCode);
    assert.deepEqual(refusals, [
      "invalid_api_key",
      "key_inactive",
      "key_expired",
      "tenant_mismatch",
      "ip_not_allowed",
    ]);
    for (const code of refusals) assert.equal(failureCodeEntry(code!)?.http, 401);
    assert.equal(keyRefusalCode(VerifyFailure.VERIFY_FAILURE_UNSPECIFIED), undefined);
  });

  it("is what ingest.proto tells integrators: every code that ends a stream or rejects a batch, with its fix", () => {
    const proto = readFileSync(
      new URL("../../../proto/facerec/ingest/v1/ingest.proto", import.meta.url),
      "utf8",
    );
    for (const code of codes.filter((c) => failureCodeEntry(c)?.ingest)) {
      assert.match(proto, new RegExp(`//\\s+${code}\\s+\\S`), `ingest.proto explains ${code}`);
    }
  });

  it("is what README.md's failure-code tables say (rewrite them with failure-codes-readme.ts --write)", () => {
    const readme = readFileSync(README_PATH, "utf8");
    assert.deepEqual(readmeTables(readme), ["token-exchange", "ingest-ack", "all"]);
    assert.equal(
      renderReadme(readme),
      readme,
      "README.md is stale: run `npx node services/shared/src/failure-codes-readme.ts --write`",
    );
    for (const code of codes) assert.ok(readme.includes(`| \`${code}\` `), `README lists ${code}`);
  });
});
