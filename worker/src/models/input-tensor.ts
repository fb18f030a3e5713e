// Turning 8-bit RGB images into a model's float input as its manifest entry specifies.
import type { RgbImage } from "../image.ts";
import type { InputSpec } from "./manifest.ts";

/** Packs same-sized RGB images into one float batch laid out and normalised as `spec` says. */
export function toInputTensor(images: readonly RgbImage[], spec: InputSpec): Float32Array {
  const plane = spec.width * spec.height;
  const out = new Float32Array(images.length * plane * 3);
  const { mean, scale } = spec;
  // Source channel for each tensor channel: BGR models read RGB pixels back to front.
  const order = spec.channels === "RGB" ? [0, 1, 2] : [2, 1, 0];
  images.forEach((image, n) => {
    if (image.width !== spec.width || image.height !== spec.height) {
      throw new Error(`expected ${spec.width}x${spec.height} input, got ${image.width}x${image.height}`);
    }
    const base = n * plane * 3;
    const px = image.data;
    if (spec.layout === "NHWC" && spec.channels === "RGB") {
      // Same interleaving as the pixels: one straight pass (the detector's per-frame hot path).
      for (let i = 0; i < plane * 3; i++) out[base + i] = (px[i]! - mean) * scale;
      return;
    }
    for (let c = 0; c < 3; c++) {
      const from = order[c]!;
      if (spec.layout === "NHWC") {
        for (let i = 0; i < plane; i++) out[base + i * 3 + c] = (px[i * 3 + from]! - mean) * scale;
      } else {
        const start = base + c * plane;
        for (let i = 0; i < plane; i++) out[start + i] = (px[i * 3 + from]! - mean) * scale;
      }
    }
  });
  return out;
}
