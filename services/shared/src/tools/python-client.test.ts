/**
 * A second-language client built from the published contracts only: examples/python generates its
 * gRPC stubs from proto/ with grpcio-tools and runs the worker flow (key exchange over REST, a
 * StreamFaces stream with a duplicate and a rejection, events read back over REST) against the real
 * stack. The Python packages come from PyPI into a virtual environment cached under
 * ~/.cache/facerec (test-support/python-venv.ts), reinstalled only when requirements.txt changes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestStack, TENANT, type TestStack } from "../stack/test-stack.ts";
import { pythonEnvironment } from "../test-support/python-venv.ts";

const run = promisify(execFile);
const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "..", "examples", "python");

describe("Python client from the published contracts", () => {
  let t: TestStack;
  let python: string;

  before(async () => {
    python = join(await pythonEnvironment("python-client-venv", join(EXAMPLE, "requirements.txt")), "python");
    t = await startTestStack();
  });
  after(() => t?.stop());

  it("generates its stubs from proto/ and runs the worker flow against the real stack", async () => {
    const generated = await run(python, ["generate.py"], { cwd: EXAMPLE });
    assert.match(generated.stdout, /generated stubs for facerec\/ingest\/v1\/ingest\.proto/);

    const admin = await t.login();
    const worker = await t.createKey(admin, { role: "worker" });
    const viewer = await t.createKey(admin, { role: "viewer" });
    const { stdout } = await run(python, ["worker_flow.py"], {
      cwd: EXAMPLE,
      timeout: 60_000,
      env: {
        ...process.env,
        API_URL: t.url,
        WORKER_API_KEY: worker.key,
        VIEWER_API_KEY: viewer.key,
        TENANT_ID: TENANT,
      },
    });
    for (const step of [
      "ok: exchanged the worker key for a Bearer token",
      "ok: its replay is acknowledged as a duplicate, storing nothing",
      "ok: the malformed batch is rejected",
      "ok: the stream goes on after a rejection",
      "ok: the 3 stored observations read back over REST (3)",
    ])
      assert.ok(stdout.includes(step), `${step}\n--- output ---\n${stdout}`);
    assert.match(stdout, /worker flow: all steps as the contract says/);
  });
});
