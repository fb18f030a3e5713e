// The worker's frame loop: source -> detector -> aligner -> embedder -> sink, two frames deep. In
// enhanced mode the tracker sits between alignment and embedding, so only the shots it releases are
// embedded: a face that stays in view costs one detection per frame but only a few embeddings.
import { alignFace } from "./aligner.ts";
import type { DetectedFace, Detector } from "./detectors/detector.ts";
import type { Embedder } from "./embedders/embedder.ts";
import type { Frame, FrameSource } from "./frame.ts";
import type { RgbImage } from "./image.ts";
import { embeddingBytes, type FaceObservation, type FaceSink } from "./sink.ts";
import type { Stage, Telemetry } from "./telemetry.ts";
import type { ThumbnailEncoder, ThumbnailPolicy } from "./thumbnails.ts";
import { faceQuality } from "./tracking/quality.ts";
import type { FaceTracker, Shot } from "./tracking/tracker.ts";

export interface PipelineParts {
  readonly source: FrameSource;
  readonly detector: Detector;
  readonly embedder: Embedder;
  readonly sink: FaceSink;
  readonly telemetry: Telemetry;
  /** Present in enhanced mode (USE_ENHANCED_WORKER=true). */
  readonly tracker?: FaceTracker;
  /** Absent, or THUMBNAILS=off: observations carry no thumbnail. */
  readonly thumbnails?: { readonly policy: ThumbnailPolicy; readonly encoder: ThumbnailEncoder };
}

/** One observation's worth of data before embedding. */
interface Pending {
  readonly frameSeq: number;
  readonly capturedAt: Date;
  readonly face: DetectedFace;
  readonly aligned: RgbImage;
  readonly quality: number;
  readonly trackId: number;
}

/**
 * Runs until the source ends or is stopped, then hands the tracker's remaining shots to the sink.
 * The sink is not closed here: whoever made it decides when to flush it.
 */
export async function runPipeline(parts: PipelineParts): Promise<void> {
  const { source, detector, embedder, sink, telemetry, tracker, thumbnails } = parts;
  const timed = async <T>(stage: Stage, work: () => Promise<T> | T): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      telemetry.observeStage(stage, (performance.now() - start) / 1000);
    }
  };
  const deliver = async (pending: readonly Pending[]): Promise<number> => {
    if (pending.length === 0) return 0;
    // Thumbnails are encoded on their own thread while the embedder runs on its own.
    const wanted = thumbnails?.policy.choose(
      pending.map((p) => ({ score: p.face.score, capturedAt: p.capturedAt })),
    );
    const jpegs = Promise.all(
      pending.map((p, i) => (wanted?.[i] ? thumbnails!.encoder.encode(p.aligned) : undefined)),
    );
    jpegs.catch(() => {});
    const embeddings = await timed("embed", () => embedder.embed(pending.map((p) => p.aligned)));
    const thumbnailJpegs = await timed("thumbnail", () => jpegs);
    const observations = pending.map((p, i) => toObservation(p, embeddings[i]!, embedder, thumbnailJpegs[i]));
    await timed("send", () => sink.send(observations));
    return observations.length;
  };

  telemetry.setRunning(true);
  try {
    async function* decoded(): AsyncGenerator<Frame> {
      const frames = source.frames()[Symbol.asyncIterator]();
      while (true) {
        const next = await timed("decode", () => frames.next());
        if (next.done) return;
        yield next.value;
      }
    }
    // Detection of the next frame starts before this one's ends, so its inputs are prepared here
    // while the model thread still runs this frame's passes.
    const detected = mapAhead(decoded(), DETECT_AHEAD, async (frame) => ({
      frame,
      faces: await timed("detect", () => detector.detect(frame)),
    }));
    let delivering: Promise<void> = Promise.resolve();
    for await (const { frame, faces } of detected) {
      const aligned = await timed("align", () =>
        faces.map((face) => alignFace(frame, face.landmarks, embedder.crop)),
      );
      // Everything below works on the aligned crops: the frame's buffer can carry a later frame.
      frame.release?.();
      let pending: Pending[];
      if (tracker) {
        const candidates = faces.map((face, i) => ({
          frameSeq: frame.seq,
          capturedAt: frame.capturedAt,
          face,
          aligned: aligned[i]!,
          quality: faceQuality(face, aligned[i]!),
        }));
        pending = tracker.update(candidates, frame.capturedAt).map(fromShot);
      } else {
        pending = faces.map((face, i) => ({
          frameSeq: frame.seq,
          capturedAt: frame.capturedAt,
          face,
          aligned: aligned[i]!,
          quality: 0,
          trackId: 0,
        }));
      }
      // Frame N is embedded and sent while frame N+1 is read and detected; the models run on
      // threads of their own. One frame in flight keeps the order and bounds memory.
      await delivering;
      delivering = deliver(pending).then((observations) => telemetry.recordFrame(faces.length, observations));
      // Marked handled here; a failure still surfaces at the next `await delivering`.
      delivering.catch(() => {});
    }
    await delivering;
    if (tracker) await deliver(tracker.flush().map(fromShot));
  } finally {
    telemetry.setRunning(false);
  }
}

/** Frames whose detection may be under way at once. */
const DETECT_AHEAD = 2;

/** Applies `work` to each item with up to `depth` calls in flight, and yields the results in order. */
async function* mapAhead<T, R>(
  items: AsyncIterable<T>,
  depth: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Promise<R>[] = [];
  for await (const item of items) {
    const result = work(item);
    // Marked handled while it waits its turn; a failure still surfaces when it is awaited below.
    result.catch(() => {});
    inFlight.push(result);
    if (inFlight.length >= depth) yield await inFlight.shift()!;
  }
  while (inFlight.length > 0) yield await inFlight.shift()!;
}

function fromShot(shot: Shot): Pending {
  return { ...shot, quality: shot.quality.score };
}

function toObservation(
  p: Pending,
  embedding: Float32Array,
  embedder: Embedder,
  thumbnail: Uint8Array | undefined,
): FaceObservation {
  return {
    capturedAt: p.capturedAt,
    frameSeq: p.frameSeq,
    bbox: { x: p.face.box.x, y: p.face.box.y, width: p.face.box.width, height: p.face.box.height },
    landmarks: p.face.landmarks.flatMap((pt) => [pt.x, pt.y]),
    detScore: p.face.score,
    embedding: embeddingBytes(embedding),
    embeddingDim: embedder.dim,
    model: embedder.model,
    quality: p.quality,
    trackId: p.trackId,
    thumbnailJpeg: thumbnail
      ? Buffer.from(thumbnail.buffer, thumbnail.byteOffset, thumbnail.byteLength)
      : Buffer.alloc(0),
  };
}
