// What VIDEO_SOURCE names, and the ffmpeg command line that decodes it to raw RGB frames.
import { statSync } from "node:fs";

export type SourceSpec =
  | { readonly kind: "file"; readonly path: string; readonly loop: boolean }
  | { readonly kind: "folder"; readonly path: string; readonly loop: boolean }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "device"; readonly path: string };

/**
 * Reads VIDEO_SOURCE: an rtsp://, rtmp:// or http(s):// URL, a /dev/video* device, a folder of
 * images, or a video file. `loop` (VIDEO_LOOP) replays a file or folder forever. (Loop used to be a
 * `#loop` suffix, which dotenv read as a comment in worker/.env, so the file played once.)
 */
export function parseVideoSource(value: string, loop = false): SourceSpec {
  if (/^(rtsps?|rtmp|https?):\/\//i.test(value)) return { kind: "url", url: value };
  if (value.startsWith("/dev/video")) return { kind: "device", path: value };
  const path = value;
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new Error(
      `VIDEO_SOURCE ${path} does not exist (expected a video file, image folder, URL or /dev/video device)`,
    );
  }
  return isFolder ? { kind: "folder", path, loop } : { kind: "file", path, loop };
}

/** Live sources are retried with backoff when they drop; files and folders simply end. */
export function isLive(spec: SourceSpec): boolean {
  return spec.kind === "url" || spec.kind === "device";
}

/** ffmpeg arguments decoding a file, URL or device to rgb24 on stdout, sampled at `fps` (0 = every frame). */
export function ffmpegArgs(spec: Exclude<SourceSpec, { kind: "folder" }>, fps: number): string[] {
  const input: string[] = [];
  switch (spec.kind) {
    case "file":
      if (spec.loop) input.push("-stream_loop", "-1");
      // A file stands in for a camera: at a set rate, play it in real time rather than in a burst.
      if (fps > 0) input.push("-re");
      input.push("-i", spec.path);
      break;
    case "url":
      // Fail (10 s socket timeout) instead of hanging when a camera stops sending; the source then
      // reconnects with backoff.
      if (/^rtsps?:/i.test(spec.url)) input.push("-rtsp_transport", "tcp", "-timeout", "10000000");
      else input.push("-rw_timeout", "10000000");
      input.push("-i", spec.url);
      break;
    case "device":
      input.push("-f", "v4l2", "-i", spec.path);
      break;
  }
  const filters = fps > 0 ? ["-vf", `fps=${fps}`] : [];
  return [
    "-hide_banner",
    "-nostats",
    "-nostdin",
    ...input,
    "-an",
    ...filters,
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ];
}
