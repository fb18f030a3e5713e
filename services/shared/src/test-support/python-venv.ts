/**
 * A Python virtual environment for a test that runs a Python tool (the example client, Schemathesis),
 * under ~/.cache/facerec/<name>, with the packages of `requirements` from PyPI installed once per
 * content of that file. Returns the environment's bin directory.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function pythonEnvironment(name: string, requirements: string): Promise<string> {
  const venv = join(homedir(), ".cache", "facerec", name);
  const python = join(venv, "bin", "python");
  const digest = createHash("sha256")
    .update(await readFile(requirements))
    .digest("hex");
  const stamp = join(venv, "requirements.sha256");
  if (existsSync(stamp) && (await readFile(stamp, "utf8")) === digest) return join(venv, "bin");
  await rm(venv, { recursive: true, force: true });
  await run("python3", ["-m", "venv", venv]);
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], {
    timeout: 10 * 60_000,
  });
  await writeFile(stamp, digest);
  return join(venv, "bin");
}
