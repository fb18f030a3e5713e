/**
 * The restart policy on its own (pure logic, fake processes, short delays): exponential backoff with
 * a cap, reset after a healthy run, one log line per crash, no restart of an exit that cannot heal,
 * and a stop that cancels a pending restart. npm-start.test.ts covers it with real processes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { backoffDelay } from "../backoff.ts";
import { type ExitCause, type Launched, type RestartPolicy, Supervised } from "./supervisor.ts";

const POLICY: RestartPolicy = { initialMs: 20, maxMs: 80, jitter: "none", healthyAfterMs: 300 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fake processes: each launch is ready at once; `crash()` ends the current one. */
function fakeProcesses() {
  const launches: number[] = [];
  let current: { crash(cause: ExitCause): void } | undefined;
  let stops = 0;
  const launch = async (): Promise<Launched> => {
    launches.push(Date.now());
    let crash!: (cause: ExitCause) => void;
    const exited = new Promise<ExitCause>((resolve) => (crash = resolve));
    current = { crash };
    return {
      pid: launches.length,
      exited,
      stop: async () => {
        stops++;
        crash({ code: 0, signal: null });
      },
      kill: async () => crash({ code: null, signal: "SIGKILL" }),
    };
  };
  return {
    launch,
    launches,
    crash: (cause: ExitCause = { code: null, signal: "SIGKILL" }) => current!.crash(cause),
    stops: () => stops,
  };
}

function logLines() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe("Supervised", () => {
  it("doubles the restart delay up to the cap", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, POLICY)),
      [20, 40, 80, 80, 80],
    );
  });

  it("restarts a crashed process after a growing delay, logging each crash once with its cause", async () => {
    const fake = fakeProcesses();
    const { log, lines } = logLines();
    const unit = new Supervised({ name: "keys", launch: fake.launch, restart: true, policy: POLICY, log });
    await unit.start();
    for (let i = 0; i < 3; i++) {
      const before = fake.launches.length;
      fake.crash();
      while (fake.launches.length === before) await sleep(5);
    }
    const gaps = fake.launches.slice(1).map((t, i) => t - fake.launches[i]!);
    assert.ok(gaps[0]! >= 20 && gaps[1]! >= 40 && gaps[2]! >= 80, `growing delays: ${gaps}`);
    const crashes = lines.filter((l) => /keys was killed by SIGKILL; restarting it in/.test(l.msg));
    assert.equal(crashes.length, 3);
    assert.equal(unit.pid, 4);
    await unit.stop();
  });

  it("starts again from the first delay after a healthy run", async () => {
    // Delays that the log line tells apart: 0.1 s, then 0.2 s, unless the healthy run reset them.
    const policy: RestartPolicy = { initialMs: 100, maxMs: 400, jitter: "none", healthyAfterMs: 300 };
    const fake = fakeProcesses();
    const { log, lines } = logLines();
    const unit = new Supervised({ name: "auth", launch: fake.launch, restart: true, policy, log });
    await unit.start();
    fake.crash();
    while (fake.launches.length < 2) await sleep(5);
    fake.crash();
    while (fake.launches.length < 3) await sleep(5);
    await sleep(policy.healthyAfterMs + 50);
    fake.crash({ code: 1, signal: null });
    while (fake.launches.length < 4) await sleep(5);
    assert.deepEqual(
      lines.map((l) => l.msg),
      [
        "auth was killed by SIGKILL; restarting it in 0.1 s",
        "auth was killed by SIGKILL; restarting it in 0.2 s",
        "auth exited with code 1; restarting it in 0.1 s",
      ],
    );
    await unit.stop();
  });

  it("does not restart an exit that a restart cannot heal, and says so", async () => {
    const fake = fakeProcesses();
    const { log, lines } = logLines();
    let gaveUp: ExitCause | undefined;
    const unit = new Supervised({
      name: "ingest",
      launch: fake.launch,
      restart: true,
      policy: POLICY,
      log,
      restartable: (cause) => cause.code !== 3,
      onGiveUp: (cause) => (gaveUp = cause),
    });
    await unit.start();
    fake.crash({ code: 3, signal: null });
    await sleep(POLICY.maxMs * 2);
    assert.equal(fake.launches.length, 1);
    assert.deepEqual(gaveUp, { code: 3, signal: null });
    assert.match(lines.at(-1)!.msg, /ingest exited with code 3; not restarting it/);
  });

  it("stop() during a pending restart cancels it", async () => {
    const fake = fakeProcesses();
    const unit = new Supervised({
      name: "gateway",
      launch: fake.launch,
      restart: true,
      policy: { ...POLICY, initialMs: 10_000 },
    });
    await unit.start();
    fake.crash();
    await sleep(10);
    const stopping = Date.now();
    await unit.stop();
    assert.ok(Date.now() - stopping < 1000, "stop does not wait for the backoff");
    await sleep(50);
    assert.equal(fake.launches.length, 1, "nothing restarted");
    assert.equal(unit.pid, undefined);
  });

  it("without restart, an unasked exit is only reported", async () => {
    const fake = fakeProcesses();
    const exits: ExitCause[] = [];
    const unit = new Supervised({
      name: "keys",
      launch: fake.launch,
      restart: false,
      onExit: (c) => exits.push(c),
    });
    await unit.start();
    await unit.kill(); // on purpose: not reported
    await unit.start();
    fake.crash({ code: 1, signal: null });
    await sleep(20);
    assert.deepEqual(exits, [{ code: 1, signal: null }]);
    assert.equal(fake.launches.length, 2);
  });
});
