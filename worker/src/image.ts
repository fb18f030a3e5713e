// RGB images and the one resampling primitive everything else builds on.
//
// Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1), so a box covering a whole
// W x H image is (0, 0, W, H) and the centre of pixel i is i + 0.5. Detectors, the aligner and the
// ingest contract all use this convention, which makes letterboxing and warps exactly invertible.

/** Interleaved 8-bit RGB, row-major, no padding between rows. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * A 2-D affine map [a, b, c, d, e, f]: x' = a*x + b*y + c, y' = d*x + e*y + f.
 */
export type Affine = readonly [number, number, number, number, number, number];

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (det === 0) throw new Error("affine map is singular");
  const a = m[4] / det;
  const b = -m[1] / det;
  const d = -m[3] / det;
  const e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

/**
 * Resamples `src` into a new width x height image: output point p comes from source point
 * `outToSrc(p)`, bilinearly interpolated; points outside the source read as `fill` (grey level).
 */
export function warpAffine(
  src: RgbImage,
  outToSrc: Affine,
  width: number,
  height: number,
  fill = 0,
): RgbImage {
  if (outToSrc[1] === 0 && outToSrc[3] === 0) return resizeAxisAligned(src, outToSrc, width, height, fill);
  const out = new Uint8Array(width * height * 3);
  const { width: sw, height: sh, data } = src;
  const [a, b, c, d, e, f] = outToSrc;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    // Source position in index space (pixel centres at integers), hence the -0.5.
    let u = a * 0.5 + b * cy + c - 0.5;
    let v = d * 0.5 + e * cy + f - 0.5;
    for (let x = 0; x < width; x++, u += a, v += d, o += 3) {
      if (u <= -1 || v <= -1 || u >= sw || v >= sh) {
        out[o] = fill;
        out[o + 1] = fill;
        out[o + 2] = fill;
        continue;
      }
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      // Clamp the 2x2 neighbourhood to the image so edges extend rather than darken.
      const xa = Math.max(0, x0);
      const xb = Math.min(sw - 1, x0 + 1);
      const ya = Math.max(0, y0);
      const yb = Math.min(sh - 1, y0 + 1);
      bilinear(
        data,
        (ya * sw + xa) * 3,
        (ya * sw + xb) * 3,
        (yb * sw + xa) * 3,
        (yb * sw + xb) * 3,
        fx,
        fy,
        out,
        o,
      );
    }
  }
  return { width, height, data: out };
}

function bilinear(
  data: Uint8Array,
  p00: number,
  p01: number,
  p10: number,
  p11: number,
  fx: number,
  fy: number,
  out: Uint8Array,
  o: number,
): void {
  const w00 = (1 - fx) * (1 - fy);
  const w01 = fx * (1 - fy);
  const w10 = (1 - fx) * fy;
  const w11 = fx * fy;
  out[o] = w00 * data[p00]! + w01 * data[p01]! + w10 * data[p10]! + w11 * data[p11]! + 0.5;
  out[o + 1] =
    w00 * data[p00 + 1]! + w01 * data[p01 + 1]! + w10 * data[p10 + 1]! + w11 * data[p11 + 1]! + 0.5;
  out[o + 2] =
    w00 * data[p00 + 2]! + w01 * data[p01 + 2]! + w10 * data[p10 + 2]! + w11 * data[p11 + 2]! + 0.5;
}

// Scaling and shifting only (every letterbox): source columns and rows are the same for every
// output row and column, so they are worked out once instead of per pixel. Same result as the
// general path.
function resizeAxisAligned(
  src: RgbImage,
  outToSrc: Affine,
  width: number,
  height: number,
  fill: number,
): RgbImage {
  const out = new Uint8Array(width * height * 3).fill(fill);
  const { width: sw, height: sh, data } = src;
  const axis = (count: number, scale: number, shift: number, limit: number) => {
    const lo = new Int32Array(count);
    const hi = new Int32Array(count);
    const frac = new Float64Array(count);
    const inside = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const u = scale * (i + 0.5) + shift - 0.5;
      inside[i] = u > -1 && u < limit ? 1 : 0;
      const i0 = Math.floor(u);
      frac[i] = u - i0;
      lo[i] = Math.min(limit - 1, Math.max(0, i0));
      hi[i] = Math.min(limit - 1, Math.max(0, i0 + 1));
    }
    return { lo, hi, frac, inside };
  };
  const cols = axis(width, outToSrc[0], outToSrc[2], sw);
  const rows = axis(height, outToSrc[4], outToSrc[5], sh);
  for (let y = 0; y < height; y++) {
    if (!rows.inside[y]) continue;
    const top = rows.lo[y]! * sw;
    const bottom = rows.hi[y]! * sw;
    const fy = rows.frac[y]!;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (!cols.inside[x]) continue;
      const left = cols.lo[x]!;
      const right = cols.hi[x]!;
      bilinear(
        data,
        (top + left) * 3,
        (top + right) * 3,
        (bottom + left) * 3,
        (bottom + right) * 3,
        cols.frac[x]!,
        fy,
        out,
        o,
      );
    }
  }
  return { width, height, data: out };
}

/** A square model input made from a frame by uniform scaling and centred padding. */
export interface Letterbox {
  readonly image: RgbImage;
  /** Maps a point of the letterboxed image back to the source frame. */
  readonly toSource: Affine;
}

/** `src` averaged over block x block pixel squares: its continuous coordinates are the source's / block. */
export interface Reduced {
  readonly image: RgbImage;
  readonly block: number;
}

/**
 * Fits the `region` of `src` (default: all of it) into a size x size square, preserving aspect ratio
 * and padding the rest with `fill`, so boxes found in the square map back exactly via `toSource`.
 * Callers letterboxing several regions of one frame can pass one `reduced` copy to sample from.
 */
export function letterbox(
  src: RgbImage,
  size: number,
  fill = 0,
  region: { x: number; y: number; width: number; height: number } = {
    x: 0,
    y: 0,
    width: src.width,
    height: src.height,
  },
  reduced: Reduced = reduceFor(src, size / Math.max(region.width, region.height)),
): Letterbox {
  const scale = size / Math.max(region.width, region.height);
  const padX = (size - region.width * scale) / 2;
  const padY = (size - region.height * scale) / 2;
  const toSource: Affine = [1 / scale, 0, region.x - padX / scale, 0, 1 / scale, region.y - padY / scale];
  const toReduced = toSource.map((v) => v / reduced.block) as unknown as Affine;
  return { image: warpAffine(reduced.image, toReduced, size, size, fill), toSource };
}

/** The block-averaged copy of `src` to sample from when shrinking it by `scale`. */
export function reduceFor(src: RgbImage, scale: number): Reduced {
  const block = Math.floor(1 / scale);
  return block < 2 ? { image: src, block: 1 } : { image: boxDownscale(src, block), block };
}

// Plain bilinear sampling at large reductions (1280 -> 256 is 5x) skips most pixels and aliases
// fine detail; averaging integer blocks first keeps the detector's input close to a proper resize.
function boxDownscale(src: RgbImage, block: number): RgbImage {
  const width = Math.floor(src.width / block);
  const height = Math.floor(src.height / block);
  const out = new Uint8Array(width * height * 3);
  const sums = new Uint32Array(width * 3);
  const area = block * block;
  const data = src.data;
  const rowBytes = width * 3;
  const step = block * 3;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < block; dy++) {
      const start = (y * block + dy) * src.width * 3;
      // The common 3x block (768 px tiles into 256 px) spelled out: this loop reads every byte
      // of every frame, and the unrolled form runs about twice as fast.
      if (block === 3) {
        for (let t = 0, s = start; t < rowBytes; t += 3, s += 9) {
          sums[t]! += data[s]! + data[s + 3]! + data[s + 6]!;
          sums[t + 1]! += data[s + 1]! + data[s + 4]! + data[s + 7]!;
          sums[t + 2]! += data[s + 2]! + data[s + 5]! + data[s + 8]!;
        }
        continue;
      }
      for (let t = 0, s = start; t < rowBytes; t += 3, s += step) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = s; k < s + step; k += 3) {
          r += data[k]!;
          g += data[k + 1]!;
          b += data[k + 2]!;
        }
        sums[t]! += r;
        sums[t + 1]! += g;
        sums[t + 2]! += b;
      }
    }
    const row = y * rowBytes;
    const half = area >> 1;
    for (let i = 0; i < rowBytes; i++) out[row + i] = ((sums[i]! + half) / area) | 0;
  }
  return { width, height, data: out };
}
