/** `npm start` as a newcomer runs it: ready banner with credentials, clean stop, data kept across restarts. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../net.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

async function startNpmStart(env: Record<string, string>): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const deadline = Date.now() + 180_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (child.exitCode !== null) assert.fail(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) assert.fail(`npm start not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, banner: out.slice(out.indexOf("facerec is ready")) };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

describe("npm start", () => {
  let dataDir: string;
  after(() => rm(dataDir, { recursive: true, force: true }));

  it("starts everything, prints the credentials once, stops cleanly and keeps data across restarts", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "facerec-npm-start-"));
    const ports = {
      GATEWAY_PORT: await freePort(),
      AUTH_PORT: await freePort(),
      KEYS_PORT: await freePort(),
      INGEST_PORT: await freePort(),
      INGEST_INTERNAL_PORT: await freePort(),
      MONGO_PORT: await freePort(),
    };
    const env = {
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      DATA_DIR: dataDir,
      MONGO_URL: "",
    };
    const base = `http://127.0.0.1:${ports.GATEWAY_PORT}`;

    const first = await startNpmStart(env);
    assert.match(first.banner, new RegExp(`Dashboard: +http://localhost:${ports.GATEWAY_PORT}/`));
    assert.match(first.banner, /Sign in as: +admin@localhost/);
    const password = /Password: +(\S+)/.exec(first.banner)![1]!;
    assert.ok(password.length >= 12, "a generated password is printed");
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    const login = await fetch(`${base}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@localhost", password }),
    });
    assert.equal(login.status, 200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const created = await fetch(`${base}/v1/api-keys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ name: "survives restarts", role: "worker" }),
    });
    assert.equal(created.status, 201);

    assert.equal(await stop(first.child), 0);
    for (const port of Object.values(ports))
      assert.equal(await portOpen(port), false, `port ${port} still open after stop`);

    const second = await startNpmStart(env);
    try {
      assert.doesNotMatch(second.banner, new RegExp(password), "the password is printed only once");
      const again = await fetch(`${base}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "admin@localhost", password }),
      });
      assert.equal(again.status, 200);
      const token = ((await again.json()) as { accessToken: string }).accessToken;
      const keys = (await (
        await fetch(`${base}/v1/api-keys`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        apiKeys: { name: string }[];
      };
      assert.deepEqual(
        keys.apiKeys.map((k) => k.name),
        ["survives restarts"],
      );
    } finally {
      assert.equal(await stop(second.child), 0);
    }
  });
});
