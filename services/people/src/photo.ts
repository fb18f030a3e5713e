/**
 * Photos in and JPEG crops out, with sharp (libvips): it decodes JPEG, PNG and WebP, applies the
 * EXIF orientation, and refuses images whose pixel count would exhaust memory before decoding them.
 */
import type { DetectedFace as DetectedFaceProto } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { MAX_PHOTO_BYTES } from "@facerec/shared/photo-limits.ts";
import type { RgbImage } from "@facerec/worker/src/image.ts";
import sharp from "sharp";

/** 40 megapixels: a 10 MB PNG can hold far more; nothing a camera or phone makes is larger. */
const MAX_PIXELS = 40_000_000;

export type PhotoFormat = "jpeg" | "png" | "webp";

/** Why a photo could not be used: the `code` reaches the client as the problem's code. */
export class PhotoRejected extends Error {
  readonly code: string;
  readonly faces: DetectedFaceProto[];

  constructor(code: string, message: string, faces: DetectedFaceProto[] = []) {
    super(message);
    this.name = "PhotoRejected";
    this.code = code;
    this.faces = faces;
  }
}

/** The format by its magic bytes: what the bytes are, not what the client called them. */
export function sniffFormat(bytes: Uint8Array): PhotoFormat | undefined {
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  return undefined;
}

/** Decodes a photo to 8-bit RGB, upright; rejects what is not a usable JPEG, PNG or WebP. */
export async function decodePhoto(bytes: Uint8Array): Promise<RgbImage> {
  if (bytes.length > MAX_PHOTO_BYTES)
    throw new PhotoRejected("image_too_large", `the photo is larger than ${MAX_PHOTO_BYTES} bytes`);
  const format = sniffFormat(bytes);
  if (!format) throw new PhotoRejected("unsupported_media_type", "the photo must be JPEG, PNG or WebP");
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: "error" })
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (err) {
    throw new PhotoRejected(
      "invalid_image",
      `the ${format.toUpperCase()} photo cannot be decoded: ${(err as Error).message}`,
    );
  }
}

export async function encodeJpeg(image: RgbImage, quality = 90): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}
