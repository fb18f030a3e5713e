// Test videos made with the system ffmpeg from real photos: a 1280x720 scene in which the astronaut's
// portrait drifts slowly, as a person would in front of a camera.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { ASTRONAUT_PNG } from "./photos.ts";

export interface TestVideoOptions {
  readonly seconds: number;
  readonly fps: number;
  /** Portrait scale: 1 shows the 512 px photo with a ~104 px face. */
  readonly scale?: number;
}

/** Writes an H.264 MP4 into `dir` and returns its path. Deterministic for given options. */
export function makeAstronautVideo(dir: string, { seconds, fps, scale = 1 }: TestVideoOptions): string {
  const file = path.join(dir, `astronaut-${seconds}s-${fps}fps-${scale}.mp4`);
  const size = Math.round(512 * scale);
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y", "-loop", "1", "-i", ASTRONAUT_PNG],
    ...["-f", "lavfi", "-i", `color=c=0x6e6e6e:s=1280x720:r=${fps}:d=${seconds}`],
    "-filter_complex",
    `[0]scale=${size}:${size}[p];[1][p]overlay=x='300+40*t':y=100:shortest=1,format=yuv420p`,
    ...[
      "-r",
      String(fps),
      "-t",
      String(seconds),
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-crf",
      "18",
      file,
    ],
  ]);
  return file;
}
