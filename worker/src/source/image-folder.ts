// Frames from a folder of still images (sorted by name), decoded one by one with ffmpeg, at
// WORKER_FPS or as fast as possible; optionally replayed forever.
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { sleep } from "../backoff.ts";
import type { Frame, FrameSource } from "../frame.ts";

const run = promisify(execFile);
const IMAGE = /\.(jpe?g|png|bmp|webp|tiff?)$/i;

export class ImageFolderSource implements FrameSource {
  readonly #folder: string;
  readonly #fps: number;
  readonly #loop: boolean;
  readonly #stopping = new AbortController();

  constructor(folder: string, fps: number, loop: boolean) {
    this.#folder = folder;
    this.#fps = fps;
    this.#loop = loop;
  }

  async *frames(): AsyncGenerator<Frame> {
    const files = (await readdir(this.#folder)).filter((f) => IMAGE.test(f)).sort();
    if (files.length === 0) throw new Error(`VIDEO_SOURCE folder ${this.#folder} holds no images`);
    const intervalMs = this.#fps > 0 ? 1000 / this.#fps : 0;
    let seq = 0;
    let next = performance.now();
    do {
      for (const file of files) {
        if (this.#stopping.signal.aborted) return;
        const image = await decodeStill(path.join(this.#folder, file));
        await sleep(next - performance.now(), this.#stopping.signal);
        next = Math.max(next + intervalMs, performance.now());
        if (this.#stopping.signal.aborted) return;
        yield { seq: seq++, capturedAt: new Date(), ...image };
      }
    } while (this.#loop);
  }

  stop(): void {
    this.#stopping.abort();
  }
}

async function decodeStill(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const probe = await run("ffprobe", [
    ...[
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=width,height",
      "-of",
      "csv=p=0",
      file,
    ],
  ]);
  const [width, height] = probe.stdout.trim().split(",").map(Number) as [number, number];
  const raw = await run(
    "ffmpeg",
    ["-v", "error", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
    { encoding: "buffer", maxBuffer: width * height * 3 + 1024 },
  );
  return {
    width,
    height,
    data: new Uint8Array(raw.stdout.buffer, raw.stdout.byteOffset, raw.stdout.byteLength),
  };
}
