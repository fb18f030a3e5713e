/**
 * The README's first command, literally: `npm ci` in a fresh clone, from a shell with no project
 * variables (no ONNXRUNTIME_NODE_INSTALL, none of the npm_* variables `npm test` passes down, no
 * node_modules/.bin on PATH). It must succeed without downloading onnxruntime's GPU binaries (the
 * registry is the only network here, so a download attempt fails the install) and print no
 * warnings.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..", "..");

/** The environment of a newcomer's shell: this one without anything the project or npm set. */
function newcomerEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|NPM_|ONNXRUNTIME_|INIT_CWD$|NODE$)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(delimiter);
  return env;
}

describe("npm ci in a fresh clone", () => {
  let clone: string;
  let output: string;

  before(async () => {
    clone = await mkdtemp(join(tmpdir(), "facerec-clone-"));
    await run("git", ["clone", "--quiet", ROOT, clone]);
    const result = await run("npm", ["ci"], {
      cwd: clone,
      env: newcomerEnvironment(),
      maxBuffer: 16 << 20,
      timeout: 10 * 60_000,
    });
    output = `${result.stdout}\n${result.stderr}`;
  });
  after(() => rm(clone, { recursive: true, force: true }));

  it("installs onnxruntime-node's CPU binaries without setting a variable", () => {
    const binding = join(
      clone,
      "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node",
    );
    assert.ok(process.platform !== "linux" || existsSync(binding), `missing ${binding}`);
    assert.ok(
      !existsSync(
        join(clone, "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"),
      ),
      "no GPU provider was downloaded",
    );
  });

  it("prints no warnings", () => {
    const warnings = output.split("\n").filter((line) => /\bwarn\b|EBADENGINE/i.test(line));
    assert.deepEqual(warnings, [], output);
  });
});
