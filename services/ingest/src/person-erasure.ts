/**
 * Takes a deleted person out of what ingest stores (issue 10 item 7), for the people service, which
 * calls it until it succeeds (so it is idempotent: a second run finds nothing left to change).
 *
 * - Clearing (a person deleted): their events and sightings stay, unmatched: `personId`,
 *   `similarity` and the matched face become null; a sighting becomes an unknown face of its track.
 * - Purging (a data-subject erasure): their events (with embedding and thumbnail) and sightings go.
 *
 * Order: the listing names the hours that hold the person, so it is changed last; sightings (open
 * in memory, and archived) and the events' full records first. A run that fails half-way is redone
 * whole and finds the same hours.
 *
 * Before it starts, the person's faces must have left this replica's gallery (the people service
 * deleted them first; the gallery feed brings that within milliseconds), and batches matched just
 * before are given MATCH_SETTLE_MS to be stored: nothing matched to the person is stored after.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@facerec/shared/errors.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { status } from "@grpc/grpc-js";
import type { EventChange, EventListing } from "./event-listing.ts";
import { EventPartitions } from "./event-partitions.ts";
import { DURABLE_WRITE } from "./event-store.ts";
import type { GalleryFollower } from "./gallery-follower.ts";
import type { FaceEventDoc, IngestModels } from "./models.ts";
import type { SightingChange } from "./sightings/sighting-store.ts";
import type { SightingTracker } from "./sightings/sighting-tracker.ts";

/** How long the person's faces may take to leave this replica's gallery. */
const GALLERY_WAIT_MS = 5000;
/** Time for a batch matched against the gallery just before to be stored. */
const MATCH_SETTLE_MS = 1000;

export interface ErasedObservations {
  /** Events changed (cleared or deleted). */
  events: number;
  /** Sightings changed (cleared or deleted). */
  sightings: number;
}

const unmatchedEvent: EventChange = (e) => ({ ...e, personId: null, similarity: null, faceId: null });
const unknownSighting: SightingChange = (s) => ({
  ...s,
  personId: null,
  bestSimilarity: null,
  subject: `t:${s.workerId}:${s.trackId}`,
});
const dropped = () => null;

export class PersonErasure {
  readonly #partitions: EventPartitions;
  readonly #listing: EventListing;
  readonly #tracker: SightingTracker;
  readonly #follower: GalleryFollower;
  readonly #log: Logger;

  constructor(opts: {
    models: IngestModels;
    /** The listing ingest appends through (EventStore.listing), so buckets being appended to are edited in turn. */
    listing: EventListing;
    tracker: SightingTracker;
    follower: GalleryFollower;
    log: Logger;
  }) {
    this.#partitions = new EventPartitions(opts.models.database);
    this.#listing = opts.listing;
    this.#tracker = opts.tracker;
    this.#follower = opts.follower;
    this.#log = opts.log;
  }

  async erase(tenantId: string, personId: string, purge: boolean): Promise<ErasedObservations> {
    await this.#untilUnmatchable(tenantId, personId);
    const hours = await this.#listing.personHours(tenantId, personId);
    const sightings = await this.#tracker.erasePerson(
      tenantId,
      personId,
      hours,
      purge ? dropped : unknownSighting,
    );
    let stored = 0;
    for (const hour of hours) {
      const events = this.#partitions.open<FaceEventDoc>(
        this.#partitions.partition("events", tenantId, hour),
      );
      if (purge) {
        stored += (await events.deleteMany({ personId }, { writeConcern: DURABLE_WRITE })).deletedCount;
      } else {
        const cleared = await events.updateMany(
          { personId },
          { $set: { personId: null, similarity: null, faceId: null } },
          { writeConcern: DURABLE_WRITE },
        );
        stored += cleared.modifiedCount;
      }
    }
    const listed = await this.#listing.editPerson(tenantId, personId, purge ? dropped : unmatchedEvent);
    const erased = { events: Math.max(stored, listed), sightings };
    this.#log.info(
      { tenantId, personId, purge, hours: hours.length, ...erased },
      "person erased from observations",
    );
    return erased;
  }

  /** Waits for the person's faces to leave the gallery matched against, then for matches in flight. */
  async #untilUnmatchable(tenantId: string, personId: string): Promise<void> {
    const deadline = Date.now() + GALLERY_WAIT_MS;
    const matchable = () => {
      for (const entry of this.#follower.gallery.entries())
        if (entry.tenantId === tenantId && entry.personId === personId) return true;
      return false;
    };
    while (matchable()) {
      // The gallery feed is behind (people unreachable from here?): the caller retries later.
      if (Date.now() > deadline)
        throw new AppError(
          status.UNAVAILABLE,
          "gallery_behind",
          "this ingest replica still matches the person's faces; retry",
        );
      await sleep(50);
    }
    await sleep(MATCH_SETTLE_MS);
  }
}
