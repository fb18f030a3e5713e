/**
 * Matches each observation ingest stores against its tenant's gallery for the same embedding model
 * (GalleryFollower's in-memory copy) and writes the outcome onto the event: personId, similarity,
 * faceId, or nulls. A search is a matrix product (the shared GEMM scorer) that reads the whole
 * gallery once however many queries it has, so the observations of batches arriving together (the
 * streams of one tenant) are searched together (a Coalescer): with 8 streams on a 10k-face gallery,
 * one pass for 256 queries instead of eight for 32.
 *
 * Tracked observations (enhanced workers: track_id set) agree on one identity: each track keeps the
 * best match it has had so far (in memory, per tenant, worker, camera and track), and every
 * observation of the track records that one, so a track does not flicker between people.
 */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import type { BatchScorer, FaceMatch, ModelGallery } from "@facerec/gallery/gallery-index.ts";
import { Coalescer } from "@facerec/shared/coalescer.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { GalleryFollower } from "./gallery-follower.ts";
import type { FaceEventDoc } from "./models.ts";

/** Queries searched together at most. */
const MAX_QUERIES_PER_SEARCH = 256;
/**
 * Scores one matrix product may hold (queries × faces, 32 MiB of float32): larger galleries are
 * searched in smaller groups of queries, down to 32.
 */
const MAX_SCORES_PER_PRODUCT = 8 * 1024 * 1024;
/** A track unseen this long is over: a later observation with its id starts afresh (worker restarts reuse ids). */
const TRACK_IDLE_MS = 60_000;
/** Tracks remembered at most; the least recently seen are forgotten first. */
const MAX_TRACKS = 100_000;

interface Match {
  personId: string;
  faceId: string;
  similarity: number;
}

export class Matcher {
  readonly #follower: GalleryFollower;
  readonly #scorer: BatchScorer;
  readonly #log: Logger;
  /** Best match per track, in least-recently-seen order (re-inserted on every sighting). */
  readonly #tracks = new Map<string, { best: Match | undefined; seenAt: number }>();
  /** Searches per tenant and model: each query's most similar face, whatever its similarity. */
  readonly #searches = new Coalescer<Float32Array, FaceMatch | undefined>({
    maxItems: MAX_QUERIES_PER_SEARCH,
    failQueuedOnError: false,
  });

  constructor(opts: { follower: GalleryFollower; scorer: BatchScorer; log: Logger }) {
    this.#follower = opts.follower;
    this.#scorer = opts.scorer;
    this.#log = opts.log;
  }

  /**
   * Sets personId, similarity and faceId on the events that match (the others keep the nulls
   * toEventDocuments gave them). Never throws:
   * a failed search leaves the events unmatched, since an event is never lost or held for matching.
   */
  async match(tenantId: string, events: FaceEventDoc[]): Promise<void> {
    if (!this.#follower.loaded || events.length === 0) return;
    const own = new Map<FaceEventDoc, Match>();
    try {
      for (const [model, ofModel] of Map.groupBy(events, (e) => e.model)) {
        const gallery = this.#follower.gallery.of(tenantId, model);
        const threshold = this.#follower.threshold(tenantId, model);
        if (!gallery || gallery.size === 0 || threshold === undefined) continue;
        const comparable = ofModel.filter((e) => e.embeddingDim === gallery.dim);
        const found = await this.#searches.submit(
          `${tenantId}\n${model}`,
          comparable.map((e) => embeddingValues(e.embedding)),
          (queries) => this.#search(gallery, queries),
        );
        for (const [i, best] of found.entries()) {
          // Five decimals: finer than any threshold means, shorter in every stored line.
          if (best && best.similarity >= threshold)
            own.set(comparable[i]!, { ...best, similarity: Math.round(best.similarity * 1e5) / 1e5 });
        }
      }
    } catch (err) {
      this.#log.warn({ err, tenantId }, "matching failed; storing the observations unmatched");
      return;
    }
    const now = Date.now();
    for (const event of events) {
      const match = event.trackId ? this.#agree(tenantId, event, own.get(event), now) : own.get(event);
      if (match) Object.assign(event, match);
    }
  }

  /**
   * Each query's most similar face. No similarity floor here: searches coalesced from several
   * batches apply their own thresholds (a floor only filters when one face per query is asked for).
   */
  async #search(gallery: ModelGallery, queries: Float32Array[]): Promise<(FaceMatch | undefined)[]> {
    const perProduct = Math.max(32, Math.floor(MAX_SCORES_PER_PRODUCT / Math.max(gallery.size, 1)));
    const found: (FaceMatch | undefined)[] = [];
    for (let start = 0; start < queries.length; start += perProduct) {
      const best = await gallery.search(queries.slice(start, start + perProduct), 1, {
        scorer: this.#scorer,
      });
      found.push(...best.map(([first]) => first));
    }
    return found;
  }

  /** The track's best match so far, this observation's included. */
  #agree(tenantId: string, event: FaceEventDoc, match: Match | undefined, now: number): Match | undefined {
    const key = `${tenantId}\n${event.workerId}\n${event.cameraId}\n${event.trackId}`;
    const track = this.#tracks.get(key);
    let best = track && now - track.seenAt < TRACK_IDLE_MS ? track.best : undefined;
    // A face removed since (or its person deleted) no longer names anyone.
    if (best && !this.#follower.gallery.has(best.faceId)) best = undefined;
    if (match && (!best || match.similarity > best.similarity)) best = match;
    this.#tracks.delete(key);
    this.#tracks.set(key, { best, seenAt: now });
    if (this.#tracks.size > MAX_TRACKS) this.#tracks.delete(this.#tracks.keys().next().value!);
    return best;
  }
}
