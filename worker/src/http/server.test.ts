import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Telemetry } from "../telemetry.ts";
import { startHttpServer, type WorkerHttpServer } from "./server.ts";

describe("worker HTTP endpoints", () => {
  const telemetry = new Telemetry();
  let server: WorkerHttpServer;
  let base: string;
  before(async () => {
    server = await startHttpServer(0, telemetry, "127.0.0.1");
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  it("answers /healthz always and /readyz only while the pipeline runs", async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    telemetry.setRunning(true);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    telemetry.setRunning(false);
  });

  it("exposes frames, faces, stage latencies, queue depth and stream state to Prometheus", async () => {
    telemetry.recordFrame(2, 2);
    telemetry.observeStage("detect", 0.012);
    telemetry.setQueue(3, 4096);
    telemetry.setStreamState("open");
    const response = await fetch(`${base}/metrics`);
    assert.match(response.headers.get("content-type") ?? "", /text\/plain/);
    const text = await response.text();
    assert.match(text, /^worker_frames_total 1$/m);
    assert.match(text, /^worker_faces_detected_total 2$/m);
    assert.match(text, /^worker_stage_seconds_bucket\{le="0.025",stage="detect"\} 1$/m);
    assert.match(text, /^worker_queue_depth 3$/m);
    assert.match(text, /^worker_stream_state\{state="open"\} 1$/m);
    assert.match(text, /^worker_stream_state\{state="idle"\} 0$/m);
    assert.match(text, /^worker_process_resident_memory_bytes \d+/m);
  });

  it("reports auth state, stream state, fps, queue depth and the last error in /status", async () => {
    telemetry.setAuthState("rejected", "key_inactive");
    telemetry.recordError(new Error("401 key_inactive: the API key is deactivated"), "uplink");
    const status = await (await fetch(`${base}/status`)).json();
    assert.equal(status.authState, "rejected");
    assert.equal(status.authError, "key_inactive");
    assert.equal(status.streamState, "open");
    assert.equal(status.queueDepth, 3);
    assert.equal(typeof status.fps, "number");
    assert.match(status.lastError.message, /key_inactive/);
  });

  it("clears lastError once the part it came from recovers, but not for another part's recovery", async () => {
    telemetry.recordError(new Error("401 key_inactive: the API key is deactivated"), "uplink");
    telemetry.clearError("source");
    assert.match((await (await fetch(`${base}/status`)).json()).lastError.message, /key_inactive/);
    telemetry.clearError("uplink");
    assert.equal((await (await fetch(`${base}/status`)).json()).lastError, null);
  });

  it("answers unknown paths with 404", async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  });
});
