// Real photos for tests and the benchmark, decoded with the system ffmpeg, and frames composed from
// them the way a camera would see faces: small, somewhere in a 1280x720 picture.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { type RgbImage, warpAffine } from "../image.ts";

const require = createRequire(import.meta.url);
// The package exports only its bundles (dist/), so find its root from the main entry.
export const HUMAN_ASSETS = path.join(path.dirname(require.resolve("@vladmandic/human")), "..", "assets");

/** Public-domain portrait (Eileen Collins) shipped by Debian's python3-skimage. */
export const ASTRONAUT_PNG = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
/** A collage of portraits and a group photo shipped by @vladmandic/human. */
export const SAMPLES_JPG = path.join(HUMAN_ASSETS, "samples.jpg");
/** A screenshot of @vladmandic/human whose bottom row holds five face crops of different people. */
export const FACEDETECT_JPG = path.join(HUMAN_ASSETS, "screenshot-facedetect.jpg");

export function decodeImage(file: string): RgbImage {
  const probe = execFileSync(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", file],
    { encoding: "utf8" },
  );
  const [width, height] = probe.trim().split(",").map(Number) as [number, number];
  const data = execFileSync(
    "ffmpeg",
    ["-v", "error", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    { maxBuffer: width * height * 3 + 1024 },
  );
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function crop(src: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  return warpAffine(src, [1, 0, x, 0, 1, y], width, height);
}

/** An image of one flat colour, e.g. a background for composed frames. */
export function solid(width: number, height: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, data };
}

/** A smooth colour gradient: structure without any face in it. */
export function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      data[o] = (255 * x) / width;
      data[o + 1] = (255 * y) / height;
      data[o + 2] = 128 + 100 * Math.sin((x + y) / 90);
    }
  }
  return { width, height, data };
}

/**
 * Pastes `photo` scaled by `scale` with its top-left at (x, y) into a copy of `background`;
 * the photo's pixel p lands at (x, y) + scale * p.
 */
export function paste(background: RgbImage, photo: RgbImage, x: number, y: number, scale: number): RgbImage {
  const placed = warpAffine(
    photo,
    [1 / scale, 0, -x / scale, 0, 1 / scale, -y / scale],
    background.width,
    background.height,
  );
  const data = new Uint8Array(background.data);
  const w = Math.round(photo.width * scale);
  const h = Math.round(photo.height * scale);
  for (let row = Math.max(0, Math.round(y)); row < Math.min(background.height, Math.round(y) + h); row++) {
    const start = (row * background.width + Math.max(0, Math.round(x))) * 3;
    const end = (row * background.width + Math.min(background.width, Math.round(x) + w)) * 3;
    data.set(placed.data.subarray(start, end), start);
  }
  return { width: background.width, height: background.height, data };
}

/** Multiplies every channel by `factor` (clamped): a brightness change. */
export function brighten(src: RgbImage, factor: number): RgbImage {
  const data = new Uint8Array(src.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, src.data[i]! * factor + 0.5);
  return { width: src.width, height: src.height, data };
}
