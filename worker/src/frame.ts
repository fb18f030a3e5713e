// A decoded video frame: what sources produce and the pipeline consumes.
import type { RgbImage } from "./image.ts";

export interface Frame extends RgbImage {
  /** Sequence number within the source, counting up from 0 across reconnects and loops. */
  readonly seq: number;
  readonly capturedAt: Date;
  /**
   * Hands the pixel buffer back to the source for a later frame; the pipeline calls it once it no
   * longer reads this frame. Optional: a frame never released is simply garbage-collected.
   */
  readonly release?: () => void;
}

/** Anything that yields frames until stopped or exhausted. */
export interface FrameSource {
  frames(): AsyncIterable<Frame>;
  /** Ends the iteration soon (stops the decoder); safe to call more than once. */
  stop(): void;
}
