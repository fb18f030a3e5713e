import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Frame } from "../frame.ts";
import { ASTRONAUT_PNG } from "../test-support/photos.ts";
import { makeAstronautVideo } from "../test-support/videos.ts";
import { openSource } from "./index.ts";
import { ffmpegArgs, parseVideoSource } from "./source-spec.ts";
import { VideoSource } from "./video-source.ts";

async function take(frames: AsyncIterable<Frame>, max: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const frame of frames) {
    out.push(frame);
    if (out.length >= max) break;
  }
  return out;
}

/** A cheap fingerprint of a frame's pixels: every 97th byte, position-weighted. */
function sample(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 97) sum = (sum * 31 + data[i]!) % 1_000_000_007;
  return sum;
}

describe("frame sources", () => {
  let dir: string;
  let video: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "worker-source-"));
    video = makeAstronautVideo(dir, { seconds: 2, fps: 10 });
  });

  it("recognises files, looping files, folders, URLs and devices", () => {
    assert.deepEqual(parseVideoSource(video), { kind: "file", path: video, loop: false });
    assert.deepEqual(parseVideoSource(video, true), { kind: "file", path: video, loop: true });
    assert.deepEqual(parseVideoSource(dir), { kind: "folder", path: dir, loop: false });
    assert.deepEqual(parseVideoSource("rtsp://cam.local/stream1"), {
      kind: "url",
      url: "rtsp://cam.local/stream1",
    });
    assert.deepEqual(parseVideoSource("/dev/video0"), { kind: "device", path: "/dev/video0" });
    assert.throws(() => parseVideoSource("/nope.mp4"), /does not exist/);
    assert.deepEqual(ffmpegArgs({ kind: "url", url: "rtsp://cam/s" }, 5).slice(3, 9), [
      "-rtsp_transport",
      "tcp",
      "-timeout",
      "10000000",
      "-i",
      "rtsp://cam/s",
    ]);
  });

  it("decodes every frame of a file as fast as possible at WORKER_FPS=0", async () => {
    const frames = await take(openSource(video, 0).frames(), 1000);
    assert.equal(frames.length, 20);
    assert.deepEqual(
      frames.map((f) => f.seq),
      [...Array(20).keys()],
    );
    assert.equal(frames[0]!.width, 1280);
    assert.equal(frames[0]!.height, 720);
    assert.equal(frames[0]!.data.length, 1280 * 720 * 3);
    // The grey background is 0x6e = 110 in every channel (within codec error).
    assert.ok(Math.abs(frames[0]!.data[0]! - 110) < 4);
  });

  it("reuses the buffers of released frames instead of allocating one per frame", async () => {
    const source = new VideoSource({ kind: "file", path: video, loop: false }, 0);
    const checksums: number[] = [];
    const seen = new Set<ArrayBufferLike>();
    for await (const frame of source.frames()) {
      // Read the pixels, then hand the buffer back as the pipeline does after alignment.
      checksums.push(sample(frame.data));
      seen.add(frame.data.buffer);
      frame.release?.();
    }
    assert.equal(checksums.length, 20);
    assert.ok(seen.size <= 5, `${seen.size} distinct buffers for 20 frames`);
    assert.equal(source.framesAllocated, seen.size);
    // Reuse does not mix frames up: the same video decoded without releasing gives the same pixels.
    const fresh = await take(openSource(video, 0).frames(), 1000);
    assert.deepEqual(
      fresh.map((f) => sample(f.data)),
      checksums,
    );
  });

  it("samples a file at WORKER_FPS in real time, like a camera", async () => {
    const start = performance.now();
    const frames = await take(openSource(video, 5).frames(), 1000);
    const seconds = (performance.now() - start) / 1000;
    assert.ok(frames.length >= 9 && frames.length <= 11, `${frames.length} frames at 5 fps from 2 s`);
    assert.ok(seconds > 1.5, `took ${seconds} s`);
  });

  it("loops a file when asked, and stops on request", async () => {
    const source = openSource(video, 0, { loop: true });
    const frames = await take(source.frames(), 45);
    source.stop();
    assert.equal(frames.length, 45);
    assert.equal(frames[44]!.seq, 44);
  });

  it("reads an image folder in name order", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "worker-images-"));
    execFileSync("ffmpeg", ["-v", "error", "-i", ASTRONAUT_PNG, path.join(folder, "a.png")]);
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "color=c=red:s=320x240",
      "-frames:v",
      "1",
      path.join(folder, "b.jpg"),
    ]);
    const frames = await take(openSource(folder, 0).frames(), 10);
    assert.deepEqual(
      frames.map((f) => [f.seq, f.width, f.height]),
      [
        [0, 512, 512],
        [1, 320, 240],
      ],
    );
  });

  it("reconnects with backoff when a live stream drops, continuing the sequence", async () => {
    // An HTTP "camera" that sends a short MPEG-TS clip and hangs up, every time it is asked.
    const clip = path.join(dir, "clip.ts");
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-i",
      video,
      "-t",
      "0.5",
      "-c:v",
      "mpeg2video",
      "-q:v",
      "4",
      "-f",
      "mpegts",
      clip,
    ]);
    const server = createServer((_, res) => {
      res.writeHead(200, { "content-type": "video/mp2t" });
      createReadStream(clip).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/camera.ts`;
    let connects = 0;
    const drops: number[] = [];
    const source = new VideoSource({ kind: "url", url }, 0, {
      onConnect: () => connects++,
      onDisconnect: (_, delayMs) => drops.push(delayMs),
    });
    const frames = await take(source.frames(), 12);
    source.stop();
    server.close();
    assert.ok(connects >= 2, `connected ${connects} times`);
    assert.ok(drops.length >= 1 && drops.every((d) => d >= 0 && d <= 1000), `backoff delays ${drops}`);
    assert.deepEqual(
      frames.map((f) => f.seq),
      [...Array(12).keys()],
    );
  });
});
