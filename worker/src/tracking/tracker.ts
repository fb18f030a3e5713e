// Enhanced mode: follows faces across frames by box overlap, keeps each track's best shot, and
// releases shots sparingly, so a face that stays in view yields a few good observations rather
// than one per frame.
import { type DetectedFace, iou } from "../detectors/detector.ts";
import type { RgbImage } from "../image.ts";
import type { FaceQuality } from "./quality.ts";

export interface Candidate {
  readonly frameSeq: number;
  readonly capturedAt: Date;
  readonly face: DetectedFace;
  readonly aligned: RgbImage;
  readonly quality: FaceQuality;
}

export interface Shot extends Candidate {
  readonly trackId: number;
}

export interface TrackerOptions {
  /** Minimum overlap for a detection to continue a track. */
  readonly iouThreshold: number;
  /** A track not seen for this long has left the view. */
  readonly maxMissingMs: number;
  /** Watch a new face this long before its first shot, to pick from more than one frame. */
  readonly firstShotDelayMs: number;
  /** Minimum time between two shots of one track. */
  readonly minResendMs: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  iouThreshold: 0.3,
  maxMissingMs: 1000,
  firstShotDelayMs: 500,
  minResendMs: 5000,
};

interface Track {
  readonly id: number;
  readonly startedAt: number;
  box: DetectedFace["box"];
  lastSeenAt: number;
  lastShotAt: number | undefined;
  /** Best candidate since the last shot. */
  best: Candidate | undefined;
}

export class FaceTracker {
  readonly #options: TrackerOptions;
  #tracks: Track[] = [];
  #nextId = 1;

  constructor(options: TrackerOptions = DEFAULT_TRACKER_OPTIONS) {
    this.#options = options;
  }

  get activeTracks(): number {
    return this.#tracks.length;
  }

  /** Feeds one frame's faces; returns the shots due now, including final shots of tracks that left. */
  update(candidates: readonly Candidate[], now: Date): Shot[] {
    const t = now.getTime();
    const matches = this.#match(candidates);
    candidates.forEach((candidate, i) => {
      let track = matches.get(i);
      if (!track) {
        track = {
          id: this.#nextId++,
          startedAt: t,
          box: candidate.face.box,
          lastSeenAt: t,
          lastShotAt: undefined,
          best: undefined,
        };
        this.#tracks.push(track);
      }
      track.box = candidate.face.box;
      track.lastSeenAt = t;
      // On equal quality the newer shot wins: it is fresher.
      if (!track.best || candidate.quality.score >= track.best.quality.score) track.best = candidate;
    });

    const shots: Shot[] = [];
    const { maxMissingMs, firstShotDelayMs, minResendMs } = this.#options;
    this.#tracks = this.#tracks.filter((track) => {
      const gone = t - track.lastSeenAt > maxMissingMs;
      const due =
        track.lastShotAt === undefined
          ? t - track.startedAt >= firstShotDelayMs
          : t - track.lastShotAt >= minResendMs;
      // A track that leaves before its first shot still gets one: every face seen is reported.
      if (track.best && (due || (gone && track.lastShotAt === undefined))) {
        shots.push({ ...track.best, trackId: track.id });
        track.best = undefined;
        track.lastShotAt = t;
      }
      return !gone;
    });
    return shots;
  }

  /** The pending best shots of tracks never reported, e.g. at shutdown or the end of a file. */
  flush(): Shot[] {
    const shots = this.#tracks
      .filter((track) => track.best && track.lastShotAt === undefined)
      .map((track) => ({ ...track.best!, trackId: track.id }));
    this.#tracks = [];
    return shots;
  }

  // Greedy assignment, best overlap first: enough for the handful of faces a camera frame holds.
  #match(candidates: readonly Candidate[]): Map<number, Track> {
    const pairs: { i: number; track: Track; overlap: number }[] = [];
    candidates.forEach((c, i) => {
      for (const track of this.#tracks) {
        const overlap = iou(c.face.box, track.box);
        if (overlap >= this.#options.iouThreshold) pairs.push({ i, track, overlap });
      }
    });
    pairs.sort((a, b) => b.overlap - a.overlap);
    const matched = new Map<number, Track>();
    const used = new Set<Track>();
    for (const { i, track } of pairs) {
      if (matched.has(i) || used.has(track)) continue;
      matched.set(i, track);
      used.add(track);
    }
    return matched;
  }
}
