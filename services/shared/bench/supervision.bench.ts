/**
 * `npm run bench:supervision`: kill -9 of every process under `npm start` (10 rounds; 1 in the smoke
 * run) while a worker streams batches. Reports per process the time until the stack is ready again
 * (a new process, gateway /readyz 200 and a database-backed API call answering), p50 and max against
 * the 5 s target and as a ratio to the cold start of the same stack measured in this run, and
 * whether every acknowledged observation was stored exactly once.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FaceBatch, IngestAck } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { SMOKE_RUN, verdict, writeBenchSummary } from "../src/bench-results.ts";
import { freePort } from "../src/net.ts";
import { PORT_VARIABLES, type ProcessName, SERVICE_NAMES } from "../src/stack/stack.ts";
import { processesMentioning, stackProcesses } from "../src/stack/stack-processes.ts";
import { ingestClient, makeBatch, WorkerStream } from "../src/stack/test-worker.ts";

const MAIN = fileURLToPath(new URL("../src/stack/main.ts", import.meta.url));
const ROUNDS = SMOKE_RUN ? 1 : Number(process.env.BENCH_SUPERVISION_ROUNDS ?? 10);
const TARGET_MS = 5000;
const OBSERVATIONS_PER_BATCH = 2;
const BATCH_INTERVAL_MS = 50;
const MAX_IN_FLIGHT = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = await mkdtemp(join(tmpdir(), "facerec-bench-supervision-"));
const env: Record<string, string> = { DATA_DIR: dataDir, MONGO_URL: "", LOG_LEVEL: "info" };
for (const variable of Object.values(PORT_VARIABLES)) env[variable] = String(await freePort());
const base = `http://127.0.0.1:${env.GATEWAY_PORT}`;

// Baseline: the cold start of this very stack, from spawn to the banner.
const startedAt = performance.now();
const runner: ChildProcess = spawn(process.execPath, [MAIN], {
  env: { ...process.env, ...env },
  stdio: ["ignore", "pipe", "pipe"],
});
let output = "";
for (const stream of [runner.stdout!, runner.stderr!])
  stream.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
while (!output.includes("Stop with Ctrl-C")) {
  if (runner.exitCode !== null) throw new Error(`npm start exited with ${runner.exitCode}:\n${output}`);
  await sleep(50);
}
const coldStartMs = performance.now() - startedAt;
const password = /Password: +(\S+)/.exec(output)![1]!;
console.log(`cold start of the stack (baseline): ${(coldStartMs / 1000).toFixed(1)} s`);

async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const adminToken = async () =>
  (await api<{ accessToken: string }>("POST", "/v1/auth/login", { email: "admin@localhost", password }))
    .accessToken;
let admin = await adminToken();
const { key } = await api<{ key: string }>("POST", "/v1/api-keys", { name: "bench", role: "worker" }, admin);

/** A worker: at-least-once delivery, replaying unacknowledged batches on a new stream after any break. */
const acked = new Map<string, IngestAck>();
const pending = new Map<string, FaceBatch>();
let producing = true;
let streamsOpened = 0;
const client = ingestClient(`127.0.0.1:${env.INGEST_PORT}`);
async function workerToken(): Promise<string> {
  for (;;) {
    try {
      return (
        await api<{ accessToken: string }>("POST", "/v1/auth/token", { apiKey: key, tenantId: "t-default" })
      ).accessToken;
    } catch {
      await sleep(100);
    }
  }
}
async function streamWorker(): Promise<void> {
  let token = await workerToken();
  while (producing || pending.size > 0) {
    const stream = new WorkerStream(client, token);
    streamsOpened++;
    let open = true;
    stream.call.on("data", (ack: IngestAck) => {
      const batch = pending.get(ack.batchId);
      if (ack.rejected) {
        // Not stored (e.g. the database was restarting): sent again shortly, as a worker does.
        if (batch) setTimeout(() => open && void stream.send(batch), 200);
        return;
      }
      acked.set(ack.batchId, ack);
      pending.delete(ack.batchId);
    });
    const ended = stream.ended.then((end) => {
      open = false;
      return end;
    });
    await stream.send(...pending.values());
    while (open && (producing || pending.size > 0)) {
      if (producing && pending.size < MAX_IN_FLIGHT) {
        const batch = makeBatch({ observations: OBSERVATIONS_PER_BATCH, workerId: "bench-worker" });
        pending.set(batch.batchId, batch);
        await stream.send(batch);
      }
      await sleep(BATCH_INTERVAL_MS);
    }
    if (open) await stream.finish();
    const end = await ended;
    if (end.code === 16) token = await workerToken(); // UNAUTHENTICATED: a fresh token
    await sleep(100);
  }
}
const worker = streamWorker();

async function readyAgain(name: ProcessName, before: number): Promise<number> {
  const killedAt = performance.now();
  process.kill(before, "SIGKILL");
  for (;;) {
    const now = (await stackProcesses(runner.pid!))[name];
    if (now && now !== before) {
      const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      const answers =
        ready &&
        (await api("GET", "/v1/api-keys", undefined, admin).then(
          () => true,
          () => false,
        ));
      if (answers) return performance.now() - killedAt;
    }
    if (performance.now() - killedAt > 60_000)
      throw new Error(`${name} not ready 60 s after kill -9:\n${output}`);
    await sleep(25);
  }
}

const processes: ProcessName[] = [...SERVICE_NAMES, "database"];
const times = new Map<ProcessName, number[]>(processes.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  admin = await adminToken(); // access tokens live 15 min
  for (const name of processes) {
    const pid = (await stackProcesses(runner.pid!))[name];
    assert.ok(pid, `${name} runs`);
    times.get(name)!.push(await readyAgain(name, pid));
    await sleep(1000); // streaming goes on between kills
  }
  console.log(`round ${round + 1}/${ROUNDS} done`);
}

producing = false;
const drainDeadline = Date.now() + 60_000;
while (pending.size > 0 && Date.now() < drainDeadline) await sleep(100);
await Promise.race([worker, sleep(5000)]);
client.close();

// What was stored, read back through the API: every event of the worker, once.
admin = await adminToken();
const stored = new Map<string, number>();
let storedEvents = 0;
let pageToken = "";
do {
  const page = await api<{ events: { batchId: string }[]; nextPageToken?: string }>(
    "GET",
    `/v1/events?workerId=bench-worker&pageSize=500${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ""}`,
    undefined,
    admin,
  );
  for (const event of page.events) stored.set(event.batchId, (stored.get(event.batchId) ?? 0) + 1);
  storedEvents += page.events.length;
  pageToken = page.nextPageToken ?? "";
} while (pageToken);
const acknowledgedEvents = acked.size * OBSERVATIONS_PER_BATCH;
const duplicated = [...stored.values()].filter((n) => n > OBSERVATIONS_PER_BATCH).length;
const unacknowledgedStored = [...stored.keys()].filter((id) => !acked.has(id)).length;

/** The runner's own figure per restart: until the new process said it was ready (before reconnects). */
const processReadyMs = (name: ProcessName) =>
  [...output.matchAll(new RegExp(`${name} ready again, ([\\d.]+) s after it stopped`, "g"))].map(
    (m) => Number(m[1]) * 1000,
  );
const crashLines = Object.fromEntries(
  processes.map((name) => [
    name,
    output.split("\n").filter((line) => line.includes(`${name} was killed by SIGKILL`)).length,
  ]),
);
runner.kill("SIGTERM");
const exitCode = await new Promise<number | null>((resolve) => runner.once("exit", resolve));
const leftBehind = await processesMentioning(dataDir);
await rm(dataDir, { recursive: true, force: true });

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const perProcess = Object.fromEntries(
  processes.map((name) => {
    const values = times.get(name)!;
    return [
      name,
      {
        kills: values.length,
        p50Ms: Math.round(quantile(values, 0.5)),
        maxMs: Math.round(Math.max(...values)),
        p50VsColdStart: Number((quantile(values, 0.5) / coldStartMs).toFixed(2)),
        processReadyP50Ms: Math.round(quantile(processReadyMs(name), 0.5)),
        crashLogLines: crashLines[name],
      },
    ];
  }),
);
console.log("\nready again after kill -9 (new process, /readyz 200, an API call answering):");
console.log("process    kills   p50 ms   max ms   p50/cold start   process up p50 ms   crash lines");
for (const [name, r] of Object.entries(perProcess))
  console.log(
    `${name.padEnd(10)} ${String(r.kills).padStart(5)} ${String(r.p50Ms).padStart(8)} ${String(r.maxMs).padStart(8)} ${r.p50VsColdStart.toFixed(2).padStart(16)} ${String(r.processReadyP50Ms).padStart(19)} ${String(r.crashLogLines).padStart(13)}`,
  );
const worst = Math.max(...Object.values(perProcess).map((r) => r.maxMs));
const exact = storedEvents === acknowledgedEvents && duplicated === 0 && pending.size === 0;
console.log(
  `worker: ${acked.size} batches acknowledged (${acknowledgedEvents} observations) over ${streamsOpened} streams; ` +
    `${storedEvents} events stored; ${duplicated} batches duplicated; ${pending.size} never acknowledged; ` +
    `${unacknowledgedStored} stored batches never acknowledged`,
);
console.log(
  `every process ready again within ${TARGET_MS / 1000} s (worst ${worst} ms): ${verdict(worst <= TARGET_MS)}`,
);
console.log(`acknowledged = stored, nothing duplicated: ${verdict(exact)}`);
console.log(`stopped with exit code ${exitCode}; processes left behind: ${leftBehind.length}`);

await writeBenchSummary("supervision", {
  rounds: ROUNDS,
  coldStartMs: Math.round(coldStartMs),
  targetMs: TARGET_MS,
  perProcess,
  worstMs: worst,
  worker: {
    batchesAcknowledged: acked.size,
    observationsAcknowledged: acknowledgedEvents,
    eventsStored: storedEvents,
    batchesDuplicated: duplicated,
    batchesNeverAcknowledged: pending.size,
    storedButUnacknowledged: unacknowledgedStored,
    streamsOpened,
  },
  stopExitCode: exitCode,
  processesLeftBehind: leftBehind.length,
});
process.exit(0);
