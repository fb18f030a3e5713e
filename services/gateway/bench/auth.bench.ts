/**
 * `npm run bench:auth`: autocannon, 50 connections, ≥ 10 s per target, in one run:
 *   (a) a bare Koa hello endpoint (the baseline, its own process on this machine),
 *   (b) POST /v1/auth/token (API key → JWT),
 *   (c) an authenticated GET /v1/api-keys/{id}.
 * Prints requests/s, p50, p99 and the ratios (b)/(a), (c)/(a); writes bench-results/auth.json.
 * The stack runs with its production defaults except the token-exchange rate limit, which would
 * otherwise answer 429 to a benchmark from one address.
 */

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { startStack } from "@facerec/shared/stack/stack.ts";
import autocannon from "autocannon";

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 50;
const PASSWORD = "benchmark-password-123";

type Target = {
  title: string;
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
};

async function measure(target: Target) {
  const result = await autocannon({ ...target, connections: CONNECTIONS, duration: DURATION_S });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0)
    throw new Error(
      `${target.title}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
  };
}

const hello = spawn(process.execPath, [fileURLToPath(new URL("./hello-server.ts", import.meta.url))], {
  stdio: ["ignore", "pipe", "inherit"],
});
const helloPort = await new Promise<number>((resolve) =>
  hello.stdout!.once("data", (d: Buffer) => resolve(JSON.parse(d.toString()).port)),
);

const dataDir = await mkdtemp(join(tmpdir(), "facerec-bench-"));
const stack = await startStack({
  dataDir,
  mongoUrl: process.env.MONGO_URL,
  mongoDb: `bench_${Date.now()}`,
  keepOutput: false,
  env: { BOOTSTRAP_ADMIN_PASSWORD: PASSWORD, TOKEN_RATE_LIMIT: "100000000" },
});

try {
  const json = { "content-type": "application/json" };
  const login = await fetch(`${stack.gatewayUrl}/v1/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email: "admin@localhost", password: PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };
  const created = (await (
    await fetch(`${stack.gatewayUrl}/v1/api-keys`, {
      method: "POST",
      headers: { ...json, ...auth },
      body: JSON.stringify({ name: "bench", role: "worker" }),
    })
  ).json()) as { apiKey: { id: string }; key: string };

  const targets: Record<"a" | "b" | "c", Target> = {
    a: { title: "bare Koa hello", url: `http://127.0.0.1:${helloPort}/` },
    b: {
      title: "POST /v1/auth/token",
      url: `${stack.gatewayUrl}/v1/auth/token`,
      method: "POST",
      headers: json,
      body: JSON.stringify({ apiKey: created.key, tenantId: "t-default" }),
    },
    c: {
      title: "GET /v1/api-keys/{id}",
      url: `${stack.gatewayUrl}/v1/api-keys/${created.apiKey.id}`,
      headers: auth,
    },
  };
  // Warm-up: JIT, connection pools, JWKS cache.
  for (const target of Object.values(targets)) await autocannon({ ...target, connections: 10, duration: 2 });

  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const [name, target] of Object.entries(targets)) {
    results[name] = await measure(target);
    const r = results[name]!;
    console.log(
      `(${name}) ${target.title.padEnd(24)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms`,
    );
  }
  const ratio = (x: string) => results[x]!.requestsPerSecond / results.a!.requestsPerSecond;
  const summary = {
    benchmark: "auth",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    connections: CONNECTIONS,
    durationSeconds: DURATION_S,
    results,
    ratios: { tokenExchangeVsKoa: ratio("b"), getApiKeyVsKoa: ratio("c") },
    targets: { tokenExchangeVsKoa: 0.15, tokenExchangeP99Ms: 25, getApiKeyVsKoa: 0.25 },
    met: {
      tokenExchangeVsKoa: ratio("b") >= 0.15,
      tokenExchangeP99: results.b!.p99Ms <= 25,
      getApiKeyVsKoa: ratio("c") >= 0.25,
    },
  };
  console.log(
    `(b)/(a) = ${ratio("b").toFixed(3)} (target ≥ 0.15: ${verdict(summary.met.tokenExchangeVsKoa)}), p99 ${results.b!.p99Ms} ms (target ≤ 25: ${verdict(summary.met.tokenExchangeP99)})`,
  );
  console.log(`(c)/(a) = ${ratio("c").toFixed(3)} (target ≥ 0.25: ${verdict(summary.met.getApiKeyVsKoa)})`);
  await writeBenchSummary("auth", summary);
} finally {
  hello.kill();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
