/**
 * A second-language client built from the published contracts only: examples/python generates its
 * gRPC stubs from proto/ with grpcio-tools and runs the worker flow (key exchange over REST, a
 * StreamFaces stream with a duplicate and a rejection, events read back over REST) against the real
 * stack. The Python packages come from PyPI into a virtual environment cached under
 * ~/.cache/facerec, reinstalled only when requirements.txt changes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestStack, TENANT, type TestStack } from "../stack/test-stack.ts";

const run = promisify(execFile);
const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "..", "examples", "python");
const VENV = join(homedir(), ".cache", "facerec", "python-client-venv");
const python = join(VENV, "bin", "python");

/** The example's virtual environment, with its requirements installed once per requirements.txt. */
async function pythonEnvironment(): Promise<void> {
  const requirements = join(EXAMPLE, "requirements.txt");
  const digest = createHash("sha256")
    .update(await readFile(requirements))
    .digest("hex");
  const stamp = join(VENV, "requirements.sha256");
  if (existsSync(stamp) && (await readFile(stamp, "utf8")) === digest) return;
  await rm(VENV, { recursive: true, force: true });
  await run("python3", ["-m", "venv", VENV]);
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], {
    timeout: 10 * 60_000,
  });
  await writeFile(stamp, digest);
}

describe("Python client from the published contracts", () => {
  let t: TestStack;

  before(async () => {
    await pythonEnvironment();
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
