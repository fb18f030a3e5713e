/**
 * This ingest replica's copy of every tenant's gallery and thresholds, followed from the people
 * service's WatchGallery stream the way RevocationFeed follows revocations: a snapshot, then each
 * change as it happens (a new face is matchable here within milliseconds of its enrolment on the
 * people replica that made it, within GALLERY_POLL_MS through another).
 *
 * It never stands in the way of ingest: while the people service is down, matching goes on against
 * the last gallery received (and reconnects resume from the last token, so nothing is missed);
 * before any gallery was received, observations are stored unmatched. A new snapshot is built
 * beside the current gallery and swapped in once complete, so matching never sees half of one.
 */
import { EventEmitter } from "node:events";
import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import { Gallery } from "@facerec/gallery/gallery-index.ts";
import type {
  PeopleServiceClient,
  WatchGalleryResponse,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { StreamFollower } from "@facerec/shared/grpc/stream-follower.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { thresholdFor } from "@facerec/shared/recognition/thresholds.ts";

export interface GalleryFollowerEvents {
  /** The gallery is current (a snapshot or a resume completed) or the subscription was lost. */
  synced: [synced: boolean];
}

export class GalleryFollower extends EventEmitter<GalleryFollowerEvents> {
  /** The gallery matched against: replaced whole when a new snapshot completes. */
  gallery = new Gallery();
  /** Whether any complete gallery was received; until then, nothing is matched. */
  loaded = false;
  /** True while subscribed and current. */
  synced = false;
  #thresholds = new Map<string, Record<string, number>>();
  #defaults: Record<string, number> = {};
  /** A snapshot being received, until its last message. */
  #staging: { gallery: Gallery; thresholds: Map<string, Record<string, number>> } | undefined;
  #resumeToken = "";
  readonly #log: Logger;
  readonly #follower: StreamFollower<WatchGalleryResponse>;

  constructor(client: PeopleServiceClient, log: Logger) {
    super();
    this.#log = log;
    this.#follower = new StreamFollower({
      open: () => client.watchGallery({ resumeToken: this.#resumeToken }),
      onData: (message) => this.#received(message),
      onLost: (err, retryInMs) => this.#lost(err, retryInMs),
      // 2 s at most, as the revocation feed: until the first snapshot arrives nothing is matched, so
      // a people service that starts after ingest must be picked up within seconds; a resume from
      // the last token costs people little.
      resubscribe: { initialMs: 100, maxMs: 2000, jitter: "full" },
    });
  }

  start(): void {
    this.#follower.start();
  }

  close(): void {
    this.#follower.close();
  }

  /** The threshold for a tenant and model; undefined: that model is not matched. */
  threshold(tenantId: string, model: string): number | undefined {
    return thresholdFor(this.#thresholds.get(tenantId), model, this.#defaults);
  }

  #received(message: WatchGalleryResponse): void {
    this.#apply(message);
    if (message.resumeToken) this.#resumeToken = message.resumeToken;
    if (message.snapshotComplete && !this.synced) {
      this.synced = true;
      this.#log.info({ faces: this.gallery.size }, "gallery feed synced");
      this.emit("synced", true);
    }
  }

  #lost(err: Error | undefined, retryInMs: number | undefined): void {
    this.#staging = undefined;
    const lost = this.synced;
    if (lost) {
      this.synced = false;
      this.emit("synced", false);
    }
    if (retryInMs === undefined) return;
    // Losing the feed says so, once; people not listening yet (a start-up in parallel) and repeated
    // failures while it stays down are debug noise.
    this.#log[lost ? "warn" : "debug"](
      { err: err?.message, retryInMs: Math.round(retryInMs), faces: this.gallery.size },
      "gallery feed disconnected; matching against the last gallery received while resubscribing",
    );
  }

  #apply(message: WatchGalleryResponse): void {
    if (message.reset) this.#staging = { gallery: new Gallery(), thresholds: new Map() };
    const target = this.#staging ?? { gallery: this.gallery, thresholds: this.#thresholds };
    if (Object.keys(message.defaultThresholds).length > 0) this.#defaults = { ...message.defaultThresholds };
    for (const t of message.thresholds) {
      if (Object.keys(t.thresholds).length > 0) target.thresholds.set(t.tenantId, { ...t.thresholds });
      else target.thresholds.delete(t.tenantId);
    }
    for (const r of message.removed) target.gallery.remove(r.faceId);
    for (const e of message.added) {
      if (e.embedding.length !== e.embeddingDim * 4) continue;
      const existing = target.gallery.of(e.tenantId, e.model);
      // A model's vectors all have its one size; a stray entry is skipped, not allowed to stop the feed.
      if (existing && existing.dim !== e.embeddingDim) continue;
      target.gallery.add({
        tenantId: e.tenantId,
        model: e.model,
        faceId: e.faceId,
        personId: e.personId,
        vector: embeddingValues(e.embedding),
      });
    }
    if (this.#staging && message.snapshotComplete) {
      this.gallery = this.#staging.gallery;
      this.#thresholds = this.#staging.thresholds;
      this.#staging = undefined;
      this.loaded = true;
    } else if (!this.#staging && message.snapshotComplete) this.loaded = true;
  }
}
