/**
 * Schemathesis (PyPI) against the real stack, from /v1/openapi.json alone: examples, boundary values
 * and random inputs for every operation, and stateful sequences of them, with an admin's token.
 * Zero failures of: no 5xx, documented status codes and content types, responses matching their
 * schemas. Bounded (a fixed seed and a few examples per operation), so a run takes about a minute;
 * the SSE feed is left out (a stream has no end to check).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { pythonEnvironment } from "@facerec/shared/test-support/python-venv.ts";

const run = promisify(execFile);
const REQUIREMENTS = join(import.meta.dirname, "..", "schemathesis", "requirements.txt");
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_schema_conformance",
];

describe("REST API under Schemathesis", () => {
  let t: TestStack;
  let bin: string;
  before(async () => {
    bin = await pythonEnvironment("schemathesis-venv", REQUIREMENTS);
    t = await startTestStack();
  });
  after(() => t?.stop());

  it("finds no server error and no answer that breaks the OpenAPI document", async () => {
    const admin = await t.login();
    const args = [
      "run",
      `${t.url}/v1/openapi.json`,
      "--header",
      `Authorization: Bearer ${admin}`,
      "--checks",
      CHECKS.join(","),
      "--max-examples",
      "10",
      "--seed",
      "20261206",
      "--exclude-path-regex",
      "/stream$",
      "--request-timeout",
      "10",
      "--no-color",
    ];
    // Its cache (.schemathesis/) goes to a scratch folder, not the repository.
    const cwd = await mkdtemp(join(tmpdir(), "facerec-schemathesis-"));
    const result = await run(join(bin, "st"), args, {
      cwd,
      timeout: 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ ok: true, stdout }),
      (err: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: `${err.stdout}\n${err.stderr}` }),
    );
    await rm(cwd, { recursive: true, force: true });
    const summary = result.stdout.split("\n").filter((l) => /generated|failures|Tested:/.test(l));
    process.stdout.write(`schemathesis: ${summary.join(" | ")}\n`);
    assert.ok(result.ok, `Schemathesis found failures:\n${result.stdout.slice(-20_000)}`);
    assert.match(result.stdout, /Tested:\s+\d+/);
  });
});
