// The worker's observable state: Prometheus metrics and the status object behind /status. The
// pipeline writes frame and stage figures; the uplink writes auth, stream and queue state.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** `thumbnail` is the wait for thumbnails after embedding (they are encoded meanwhile, elsewhere). */
export const STAGES = ["decode", "detect", "align", "embed", "thumbnail", "send"] as const;
export type Stage = (typeof STAGES)[number];

export const AUTH_STATES = ["unauthenticated", "authenticating", "authenticated", "rejected"] as const;
export type AuthState = (typeof AUTH_STATES)[number];
export const STREAM_STATES = ["idle", "connecting", "open", "backoff", "closed"] as const;
export type StreamState = (typeof STREAM_STATES)[number];

/** Where an error came from: the uplink (auth, stream), the video source, or the pipeline. */
export type ErrorOrigin = "uplink" | "source" | "pipeline";

export interface StatusSnapshot {
  readonly authState: AuthState;
  /** Stable code of the last auth failure, e.g. `key_inactive`; null once authenticated. */
  readonly authError: string | null;
  readonly streamState: StreamState;
  readonly fps: number;
  readonly queueDepth: number;
  readonly queueBytes: number;
  /** The last error of a part that has not recovered since; null when all is well. */
  readonly lastError: { readonly message: string; readonly at: string } | null;
  readonly pipeline: {
    readonly running: boolean;
    readonly frames: number;
    readonly faces: number;
    readonly observations: number;
  };
}

export class Telemetry {
  readonly registry = new Registry();
  readonly frames = new Counter({
    name: "worker_frames_total",
    help: "Frames processed",
    registers: [this.registry],
  });
  readonly faces = new Counter({
    name: "worker_faces_detected_total",
    help: "Faces detected",
    registers: [this.registry],
  });
  readonly observations = new Counter({
    name: "worker_observations_total",
    help: "Observations handed to the uplink",
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: "worker_stage_seconds",
    help: "Time per frame spent in each pipeline stage",
    labelNames: ["stage"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly #queueDepth = new Gauge({
    name: "worker_queue_depth",
    help: "Unacknowledged batches queued",
    registers: [this.registry],
  });
  readonly #queueBytes = new Gauge({
    name: "worker_queue_bytes",
    help: "Bytes of unacknowledged batches on disk",
    registers: [this.registry],
  });
  readonly #streamState = new Gauge({
    name: "worker_stream_state",
    help: "1 for the ingest stream's current state",
    labelNames: ["state"],
    registers: [this.registry],
  });
  readonly #authState = new Gauge({
    name: "worker_auth_state",
    help: "1 for the current authentication state",
    labelNames: ["state"],
    registers: [this.registry],
  });
  readonly #fps = new Gauge({
    name: "worker_fps",
    help: "Frames per second over the last few seconds",
    registers: [this.registry],
  });

  #auth: AuthState = "unauthenticated";
  #authError: string | null = null;
  #stream: StreamState = "idle";
  #queue = { depth: 0, bytes: 0 };
  #lastError: StatusSnapshot["lastError"] = null;
  #lastErrorOrigin: ErrorOrigin | undefined;
  #running = false;
  #counts = { frames: 0, faces: 0, observations: 0 };
  #frameTimes: number[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "worker_" });
    this.setAuthState("unauthenticated");
    this.setStreamState("idle");
  }

  setAuthState(state: AuthState, errorCode: string | null = null): void {
    this.#auth = state;
    this.#authError = state === "authenticated" ? null : errorCode;
    for (const s of AUTH_STATES) this.#authState.set({ state: s }, s === state ? 1 : 0);
  }

  setStreamState(state: StreamState): void {
    this.#stream = state;
    for (const s of STREAM_STATES) this.#streamState.set({ state: s }, s === state ? 1 : 0);
  }

  setQueue(depth: number, bytes: number): void {
    this.#queue = { depth, bytes };
    this.#queueDepth.set(depth);
    this.#queueBytes.set(bytes);
  }

  /** Shown in /status as lastError until the part it came from recovers (clearError). */
  recordError(error: unknown, origin: ErrorOrigin): void {
    this.#lastError = {
      message: error instanceof Error ? error.message : String(error),
      at: new Date().toISOString(),
    };
    this.#lastErrorOrigin = origin;
  }

  /** `origin` works again: its error, if it is the last one, is no longer current. */
  clearError(origin: ErrorOrigin): void {
    if (this.#lastErrorOrigin !== origin) return;
    this.#lastError = null;
    this.#lastErrorOrigin = undefined;
  }

  setRunning(running: boolean): void {
    this.#running = running;
  }

  recordFrame(faces: number, observations: number, at = performance.now()): void {
    this.frames.inc();
    this.faces.inc(faces);
    this.observations.inc(observations);
    this.#counts.frames++;
    this.#counts.faces += faces;
    this.#counts.observations += observations;
    this.#frameTimes.push(at);
    // fps over a 5 s sliding window
    while (this.#frameTimes.length > 0 && at - this.#frameTimes[0]! > 5000) this.#frameTimes.shift();
    this.#fps.set(this.fps(at));
  }

  observeStage(stage: Stage, seconds: number): void {
    this.stageSeconds.observe({ stage }, seconds);
  }

  fps(at = performance.now()): number {
    const times = this.#frameTimes.filter((t) => at - t <= 5000);
    if (times.length < 2) return 0;
    return (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
  }

  get running(): boolean {
    return this.#running;
  }

  snapshot(): StatusSnapshot {
    return {
      authState: this.#auth,
      authError: this.#authError,
      streamState: this.#stream,
      fps: Math.round(this.fps() * 100) / 100,
      queueDepth: this.#queue.depth,
      queueBytes: this.#queue.bytes,
      lastError: this.#lastError,
      pipeline: { running: this.#running, ...this.#counts },
    };
  }
}
