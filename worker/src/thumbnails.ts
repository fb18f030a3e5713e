// Thumbnails: a small JPEG of the face with an observation, so the dashboard's Events show who was
// seen. The picture is the embedder's aligned crop (dlib's 150-px chip, ArcFace's 112 px), which
// the pipeline has made anyway; it is encoded on a thread of its own (thumbnail-thread.ts) so
// JPEG encoding, which takes milliseconds per face, never holds up reading and detecting frames.
import { Worker } from "node:worker_threads";
import jpeg from "jpeg-js";
import type { RgbImage } from "./image.ts";

/**
 * THUMBNAILS: `best` (default) gives every observation of enhanced mode a thumbnail (they are the
 * tracks' best shots) and, in basic mode, the best-scoring face of a frame at most once per
 * THUMBNAIL_EVERY_MS; `all` gives every observation one; `off` none.
 */
export const THUMBNAIL_MODES = ["best", "all", "off"] as const;
export type ThumbnailMode = (typeof THUMBNAIL_MODES)[number];

/** Ingest accepts up to 64 KiB; a face needs far less. */
export const THUMBNAIL_MAX_BYTES = 12 * 1024;
const QUALITIES = [85, 75, 60, 45, 30];

/** JPEG of an RGB image, at the best quality of QUALITIES that fits THUMBNAIL_MAX_BYTES. */
export function encodeThumbnail(image: RgbImage): Uint8Array {
  const rgba = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, o = 0; i < image.data.length; i += 3, o += 4) {
    rgba[o] = image.data[i]!;
    rgba[o + 1] = image.data[i + 1]!;
    rgba[o + 2] = image.data[i + 2]!;
    rgba[o + 3] = 255;
  }
  let encoded: Uint8Array = new Uint8Array(0);
  for (const quality of QUALITIES) {
    encoded = jpeg.encode({ data: rgba, width: image.width, height: image.height }, quality).data;
    if (encoded.length <= THUMBNAIL_MAX_BYTES) break;
  }
  // A copy with a buffer of its own (jpeg-js may hand out a slice of Node's shared pool), so it can
  // be moved between threads.
  return new Uint8Array(encoded);
}

/** Chooses which of one frame's (or one release of shots') faces carry a thumbnail. */
export class ThumbnailPolicy {
  readonly #mode: ThumbnailMode;
  readonly #enhanced: boolean;
  readonly #everyMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;

  constructor(mode: ThumbnailMode, options: { enhanced: boolean; everyMs: number }) {
    this.#mode = mode;
    this.#enhanced = options.enhanced;
    this.#everyMs = options.everyMs;
  }

  choose(faces: readonly { readonly score: number; readonly capturedAt: Date }[]): boolean[] {
    if (this.#mode === "off") return faces.map(() => false);
    if (this.#mode === "all" || this.#enhanced) return faces.map(() => true);
    const best = faces.reduce((b, f, i) => (b < 0 || f.score > faces[b]!.score ? i : b), -1);
    const at = faces[best]?.capturedAt.getTime();
    if (at === undefined || at - this.#lastAt < this.#everyMs) return faces.map(() => false);
    this.#lastAt = at;
    return faces.map((_, i) => i === best);
  }
}

interface EncodeReply {
  readonly id: number;
  readonly jpeg: Uint8Array;
  /** Time the thread spent encoding. */
  readonly ms: number;
}

/** Encodes thumbnails on a thread of its own, in order. */
export class ThumbnailEncoder {
  readonly #thread: Worker;
  readonly #pending = new Map<number, { resolve: (r: EncodeReply) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  /** Thread milliseconds spent encoding, and thumbnails made, since start (for the benchmark). */
  readonly totals = { ms: 0, count: 0, bytes: 0 };

  constructor() {
    this.#thread = new Worker(new URL("./thumbnail-thread.ts", import.meta.url));
    this.#thread.on("message", (reply: EncodeReply) => {
      this.#pending.get(reply.id)?.resolve(reply);
      this.#pending.delete(reply.id);
    });
    const failAll = (error: Error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#thread.on("error", failAll);
    this.#thread.on("exit", () => failAll(new Error("the thumbnail thread exited")));
    // An idle encoder does not keep the process alive.
    this.#thread.unref();
  }

  async encode(image: RgbImage): Promise<Uint8Array> {
    const id = this.#nextId++;
    // A copy, moved to the thread: the caller's crop stays usable.
    const data = new Uint8Array(image.data);
    const reply = await new Promise<EncodeReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#thread.postMessage({ id, width: image.width, height: image.height, data }, [data.buffer]);
    });
    this.totals.ms += reply.ms;
    this.totals.count++;
    this.totals.bytes += reply.jpeg.length;
    return reply.jpeg;
  }

  async close(): Promise<void> {
    await this.#thread.terminate();
  }
}
