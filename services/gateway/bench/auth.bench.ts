/**
 * `npm run bench:auth`: autocannon, 50 connections, ≥ 10 s per target, in one run:
 *   (a) a bare Koa hello endpoint (its own process on this machine),
 *   (b) POST /v1/auth/token (API key → JWT: gateway → auth → keys, two gRPC hops),
 *   (c) an authenticated GET /v1/api-keys/{id} (gateway → keys, one hop),
 *   (d) the same-topology floor of (b): Koa → gRPC → gRPC over three processes whose handlers
 *       answer at once with payloads of the real sizes (topology-floor.ts),
 *   (e) the one-hop floor of (c), likewise.
 * Targets: (b)/(d) ≥ 0.5 with p99 ≤ 25 ms, (c)/(e) ≥ 0.6. The floors are the honest baselines:
 * (b)/(a) and (c)/(a) are printed too, but no design with two process hops can approach a bare
 * Koa hello on two cores, so they carry no target. Writes bench-results/auth.json.
 * The stack runs with its production defaults except the token-exchange rate limit, which would
 * otherwise answer 429 to a benchmark from one address.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Role } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { startStack } from "@facerec/shared/stack/stack.ts";
import autocannon from "autocannon";
import type { FloorPayload } from "./topology-floor.ts";

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

const children: ChildProcess[] = [];
/** Starts a benchmark process that prints `{"port": N}` once listening, and returns the port. */
async function startListening(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const [data] = (await once(child.stdout!, "data")) as [Buffer];
  return (JSON.parse(data.toString()) as { port: number }).port;
}

const helloPort = await startListening("./hello-server.ts");

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

  const tokenBody = JSON.stringify({ apiKey: created.key, tenantId: "t-default" });
  const tokenResponse = (await (
    await fetch(`${stack.gatewayUrl}/v1/auth/token`, { method: "POST", headers: json, body: tokenBody })
  ).json()) as { accessToken: string; expiresIn: number };
  const apiKeyResponse = (await (
    await fetch(`${stack.gatewayUrl}/v1/api-keys/${created.apiKey.id}`, { headers: auth })
  ).json()) as { apiKey: Record<string, string | boolean | null> };
  const restKey = apiKeyResponse.apiKey;
  const payload: FloorPayload = {
    accessToken: tokenResponse.accessToken,
    expiresIn: tokenResponse.expiresIn,
    apiKey: {
      id: String(restKey.id),
      tenantId: "t-default",
      name: String(restKey.name),
      role: Role.ROLE_WORKER,
      prefix: String(restKey.prefix),
      active: true,
      expiresAt: undefined,
      lastUsedAt: new Date(),
      createdAt: new Date(),
      createdBy: String(restKey.createdBy),
      lastWorkerId: "",
      lastRemoteAddress: "",
      rotatedAt: undefined,
      previousSecretExpiresAt: undefined,
      allowedSiteIds: [],
      allowedWorkerIds: [],
      allowedCidrs: [],
    },
    tokenResponse,
    apiKeyResponse,
  };
  const floorEnv = { FLOOR_PAYLOAD: JSON.stringify(payload) };
  const leafPort = await startListening("./topology-floor.ts", ["leaf"], floorEnv);
  const hops = { ...floorEnv, LEAF_ADDR: `127.0.0.1:${leafPort}` };
  const middlePort = await startListening("./topology-floor.ts", ["middle"], hops);
  const floorPort = await startListening("./topology-floor.ts", ["front"], {
    ...hops,
    MIDDLE_ADDR: `127.0.0.1:${middlePort}`,
  });
  const floorUrl = `http://127.0.0.1:${floorPort}`;

  const targets: Record<"a" | "b" | "c" | "d" | "e", Target> = {
    a: { title: "bare Koa hello", url: `http://127.0.0.1:${helloPort}/` },
    b: {
      title: "POST /v1/auth/token",
      url: `${stack.gatewayUrl}/v1/auth/token`,
      method: "POST",
      headers: json,
      body: tokenBody,
    },
    c: {
      title: "GET /v1/api-keys/{id}",
      url: `${stack.gatewayUrl}/v1/api-keys/${created.apiKey.id}`,
      headers: auth,
    },
    d: {
      title: "floor: 2 hops (token)",
      url: `${floorUrl}/v1/auth/token`,
      method: "POST",
      headers: json,
      body: tokenBody,
    },
    e: {
      title: "floor: 1 hop (get key)",
      url: `${floorUrl}/v1/api-keys/${created.apiKey.id}`,
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
  const ratio = (x: string, base: string) => results[x]!.requestsPerSecond / results[base]!.requestsPerSecond;
  const ratios = {
    tokenExchangeVsFloor: ratio("b", "d"),
    getApiKeyVsFloor: ratio("c", "e"),
    tokenExchangeVsKoa: ratio("b", "a"),
    getApiKeyVsKoa: ratio("c", "a"),
  };
  const goals = { tokenExchangeVsFloor: 0.5, tokenExchangeP99Ms: 25, getApiKeyVsFloor: 0.6 };
  const met = {
    tokenExchangeVsFloor: ratios.tokenExchangeVsFloor >= goals.tokenExchangeVsFloor,
    tokenExchangeP99: results.b!.p99Ms <= goals.tokenExchangeP99Ms,
    getApiKeyVsFloor: ratios.getApiKeyVsFloor >= goals.getApiKeyVsFloor,
  };
  const summary = {
    benchmark: "auth",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    connections: CONNECTIONS,
    durationSeconds: DURATION_S,
    results,
    ratios,
    targets: goals,
    met,
  };
  console.log(
    `(b)/(d) = ${ratios.tokenExchangeVsFloor.toFixed(3)} (target ≥ 0.5: ${verdict(met.tokenExchangeVsFloor)}), p99 ${results.b!.p99Ms} ms (target ≤ 25: ${verdict(met.tokenExchangeP99)})`,
  );
  console.log(
    `(c)/(e) = ${ratios.getApiKeyVsFloor.toFixed(3)} (target ≥ 0.6: ${verdict(met.getApiKeyVsFloor)})`,
  );
  console.log(
    `(b)/(a) = ${ratios.tokenExchangeVsKoa.toFixed(3)}, (c)/(a) = ${ratios.getApiKeyVsKoa.toFixed(3)} (against a bare Koa hello; no target)`,
  );
  await writeBenchSummary("auth", summary);
} finally {
  for (const child of children) child.kill();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
