// Frames from ffmpeg: one child process decoding VIDEO_SOURCE to rgb24 on its stdout. Live
// sources (cameras, streams) are restarted with backoff when they drop, and deliver only the newest
// frame when the pipeline falls behind; files are read losslessly, at the pace the pipeline takes.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { type BackoffPolicy, backoffDelay, sleep } from "../backoff.ts";
import type { Frame, FrameSource } from "../frame.ts";
import { ffmpegArgs, isLive, type SourceSpec } from "./source-spec.ts";

export interface VideoSourceEvents {
  /** Called when a live source dropped and is about to be retried after `delayMs`. */
  onDisconnect?(error: Error, delayMs: number): void;
  onConnect?(width: number, height: number): void;
}

const RECONNECT: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };
// Frames decoded ahead of the pipeline from files: ffmpeg decodes the next frames while the models
// run, instead of waiting behind the 64 KiB pipe for the pipeline to ask.
const READ_AHEAD_FRAMES = 3;
// Frame buffers kept for reuse: enough for the frames read ahead, detected ahead and being aligned.
const POOLED_FRAMES = 8;

/**
 * Frame buffers handed back by the pipeline (Frame.release), reused for the next frames: a
 * 1280x720 frame is 2.76 MB, and a fresh one per frame kept the garbage collector busy.
 */
export class FramePool {
  readonly #free: Uint8Array[] = [];
  readonly frameBytes: number;
  /** Buffers allocated so far (for the tests and the benchmark). */
  allocated = 0;

  constructor(frameBytes: number) {
    this.frameBytes = frameBytes;
  }

  take(): Uint8Array {
    const reused = this.#free.pop();
    if (reused) return reused;
    this.allocated++;
    return new Uint8Array(this.frameBytes);
  }

  give(buffer: Uint8Array): void {
    if (
      buffer.length === this.frameBytes &&
      this.#free.length < POOLED_FRAMES &&
      !this.#free.includes(buffer)
    )
      this.#free.push(buffer);
  }
}

type Ffmpeg = ChildProcessByStdio<null, Readable, Readable>;

export class VideoSource implements FrameSource {
  readonly #spec: Exclude<SourceSpec, { kind: "folder" }>;
  readonly #fps: number;
  readonly #events: VideoSourceEvents;
  readonly #stopping = new AbortController();
  #child: Ffmpeg | undefined;
  #seq = 0;
  #pool: FramePool | undefined;

  constructor(spec: Exclude<SourceSpec, { kind: "folder" }>, fps: number, events: VideoSourceEvents = {}) {
    this.#spec = spec;
    this.#fps = fps;
    this.#events = events;
  }

  async *frames(): AsyncGenerator<Frame> {
    let attempt = 0;
    while (!this.#stopping.signal.aborted) {
      let delivered = 0;
      try {
        for await (const frame of this.#decodeOnce()) {
          delivered++;
          attempt = 0;
          yield frame;
        }
        if (!isLive(this.#spec)) return;
        throw new Error("stream ended");
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        if (!isLive(this.#spec)) throw error;
        const delayMs = backoffDelay(delivered > 0 ? 0 : attempt++, RECONNECT);
        this.#events.onDisconnect?.(error as Error, delayMs);
        await sleep(delayMs, this.#stopping.signal);
      }
    }
  }

  /** Frame buffers allocated by the current decoder (reused ones are not counted again). */
  get framesAllocated(): number {
    return this.#pool?.allocated ?? 0;
  }

  stop(): void {
    this.#stopping.abort();
    this.#child?.kill("SIGTERM");
  }

  async *#decodeOnce(): AsyncGenerator<Frame> {
    const child = spawn("ffmpeg", ffmpegArgs(this.#spec, this.#fps), { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    const spawnFailed = new Promise<never>((_, reject) => child.once("error", reject));
    spawnFailed.catch(() => {});
    try {
      const { width, height, stderrTail } = await Promise.race([readOutputSize(child.stderr), spawnFailed]);
      this.#events.onConnect?.(width, height);
      const pool = new FramePool(width * height * 3);
      this.#pool = pool;
      const frames = isLive(this.#spec)
        ? newestFirst(chunkFrames(child.stdout, pool), (dropped) => pool.give(dropped))
        : readAhead(chunkFrames(child.stdout, pool), READ_AHEAD_FRAMES);
      for await (const data of frames) {
        yield {
          seq: this.#seq++,
          capturedAt: new Date(),
          width,
          height,
          data,
          release: () => pool.give(data),
        };
      }
      const code = await exited;
      if (code !== 0 && !this.#stopping.signal.aborted) {
        throw new Error(`ffmpeg exited with code ${code}: ${stderrTail()}`);
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM");
      this.#child = undefined;
    }
  }
}

/**
 * Waits for ffmpeg's description of its raw output stream on stderr and returns the frame size.
 * Reading it from ffmpeg itself (rather than probing first) also works for devices that only one
 * process may open at a time.
 */
function readOutputSize(
  stderr: Readable,
): Promise<{ width: number; height: number; stderrTail: () => string }> {
  let text = "";
  const tail = () => text.trim().split("\n").slice(-3).join(" | ");
  return new Promise((resolve, reject) => {
    let found = false;
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => {
      text = (text + chunk).slice(-8192);
      if (found) return;
      const output = text.indexOf("Output #0");
      const match = output >= 0 ? /Video: rawvideo[^\n]*?, (\d+)x(\d+)/.exec(text.slice(output)) : null;
      if (match) {
        found = true;
        resolve({ width: Number(match[1]), height: Number(match[2]), stderrTail: tail });
      }
    });
    stderr.once("end", () => {
      if (!found) reject(new Error(`ffmpeg could not open the source: ${tail() || "no output"}`));
    });
  });
}

/** Splits a byte stream into whole frames, each in a buffer of the pool. */
async function* chunkFrames(stream: Readable, pool: FramePool): AsyncGenerator<Uint8Array> {
  const { frameBytes } = pool;
  let frame = pool.take();
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      frame.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        yield frame;
        frame = pool.take();
        filled = 0;
      }
    }
  }
}

/**
 * Keeps reading while the consumer is busy and hands it only the latest frame: a live camera's
 * older frames are worth less than keeping latency low.
 */
async function* newestFirst(
  frames: AsyncGenerator<Uint8Array>,
  onDrop: (frame: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  let latest: Uint8Array | undefined;
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const frame of frames) {
        if (latest) onDrop(latest);
        latest = frame;
        wake?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      done = true;
      wake?.();
    }
  })();
  while (true) {
    if (latest === undefined && !done) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    if (latest !== undefined) {
      const frame = latest;
      latest = undefined;
      yield frame;
    } else if (done) break;
  }
  await pump;
  if (failure) throw failure;
}

/** Reads up to `limit` frames ahead of the consumer, in order and without dropping any. */
async function* readAhead(frames: AsyncGenerator<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let done = false;
  let failure: unknown;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let stopped = false;
  const pump = (async () => {
    try {
      for await (const frame of frames) {
        queue.push(frame);
        wakeConsumer?.();
        if (queue.length >= limit) await new Promise<void>((resolve) => (wakeProducer = resolve));
        if (stopped) break;
      }
    } catch (error) {
      failure = error;
    } finally {
      done = true;
      wakeConsumer?.();
    }
  })();
  try {
    while (true) {
      if (queue.length === 0 && !done) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      wakeConsumer = undefined;
      const frame = queue.shift();
      wakeProducer?.();
      wakeProducer = undefined;
      if (frame) yield frame;
      else if (done) break;
    }
  } finally {
    // The consumer stopped early: release the producer so it ends its read of the stream.
    stopped = true;
    wakeProducer?.();
  }
  await pump;
  if (failure) throw failure;
}
