/**
 * One event whole, the events of one track, and the events most like an embedding: what enrolment
 * and search from observations read (IngestQueryService.GetEvent, ListTrackEvents and SearchEvents,
 * for the people service).
 */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import type { FaceEvent } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { notFound } from "@facerec/shared/errors.ts";
import { EventPartitions, HOUR_MS } from "./event-partitions.ts";
import type { EventStore } from "./event-store.ts";
import type { FaceEventDoc, IngestModels } from "./models.ts";

/** An event id: the hour of capture, then 22 base64url characters. */
const EVENT_ID = /^(\d{10})-[A-Za-z0-9_-]{22}$/;
/** How far back a track is looked for. */
const TRACK_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Observations of one track further apart than this are two tracks (a worker restarted its ids). */
const TRACK_GAP_MS = 60_000;
/** Events returned of one track at most (the tracker's own bound on a sighting). */
const MAX_TRACK_EVENTS = 2000;
const PAGE_SIZE = 500;
/** Pages read at most looking for a track: 20,000 of the worker's events. */
const MAX_PAGES = 40;

/** The longest window SearchEvents compares, and the most events it compares in it. */
export const SEARCH_WINDOW_MS = 24 * HOUR_MS;
const SEARCH_MAX_COMPARED = 50_000;

const eventNotFound = (id: string) => notFound(`event ${id} does not exist`);

export class EventLookup {
  readonly #partitions: EventPartitions;
  readonly #store: EventStore;

  constructor(opts: { models: IngestModels; store: EventStore }) {
    this.#partitions = new EventPartitions(opts.models.database);
    this.#store = opts.store;
  }

  /** The tenant's event with its embedding and thumbnail (empty when none); NOT_FOUND otherwise. */
  async get(tenantId: string, eventId: string): Promise<{ event: FaceEvent; thumbnailJpeg: Buffer }> {
    const hour = EVENT_ID.exec(eventId)?.[1];
    if (!hour) throw eventNotFound(eventId);
    const partition = this.#partitions.partition("events", tenantId, hour);
    const doc = await this.#partitions.open<FaceEventDoc>(partition).findOne({ _id: eventId });
    if (!doc) throw eventNotFound(eventId);
    return {
      event: toFaceEvent(doc),
      thumbnailJpeg: doc.thumbnail ? bytesOf(doc.thumbnail) : Buffer.alloc(0),
    };
  }

  /**
   * The tenant's events of `model` captured in [from, to) most similar to `query`, best first:
   * hours read newest first, at most SEARCH_MAX_COMPARED events compared.
   */
  async search(
    tenantId: string,
    model: string,
    query: Float32Array,
    opts: { maxResults: number; minSimilarity: number; from: Date; to: Date },
  ): Promise<{ matches: { event: FaceEvent; similarity: number }[]; compared: number; truncated: boolean }> {
    const [fromMs, toMs] = [opts.from.getTime(), opts.to.getTime()];
    const hours = (await this.#partitions.list())
      .filter(
        (p) => this.#partitions.isOf(p, "events", tenantId) && p.start < toMs && p.start + HOUR_MS > fromMs,
      )
      .sort((a, b) => b.start - a.start);
    const best: { id: string; similarity: number }[] = [];
    let compared = 0;
    let truncated = false;
    for (const hour of hours) {
      const rows = this.#partitions
        .open<FaceEventDoc>(hour)
        .find({ model, capturedAt: { $gte: opts.from, $lt: opts.to } }, { projection: { embedding: 1 } });
      for await (const row of rows) {
        if (compared === SEARCH_MAX_COMPARED) {
          truncated = true;
          break;
        }
        compared++;
        const vector = embeddingValues(bytesOf(row.embedding));
        if (vector.length !== query.length) continue;
        const similarity = cosine(query, vector);
        if (similarity < opts.minSimilarity) continue;
        if (best.length === opts.maxResults && similarity <= best.at(-1)!.similarity) continue;
        best.push({ id: row._id, similarity });
        best.sort((a, b) => b.similarity - a.similarity);
        if (best.length > opts.maxResults) best.pop();
      }
      if (truncated) break;
    }
    const matches = [];
    for (const { id, similarity } of best) {
      const { event } = await this.get(tenantId, id).catch(() => ({ event: undefined }));
      // Gone since (retention, erasure): left out.
      if (event) matches.push({ event: { ...event, embedding: Buffer.alloc(0) }, similarity });
    }
    return { matches, compared, truncated };
  }

  /**
   * The observations of the worker's most recent track `trackId` captured in the 24 hours before
   * `to`, newest first, without embeddings; NOT_FOUND when there are none.
   */
  async track(tenantId: string, workerId: string, trackId: number, to: Date): Promise<FaceEvent[]> {
    const found: FaceEvent[] = [];
    let pageToken = "";
    const at = (e: FaceEvent) => e.capturedAt!.getTime();
    for (let page = 0; page < MAX_PAGES; page++) {
      const { events, nextPageToken } = await this.#store.list(tenantId, {
        workerId,
        from: new Date(to.getTime() - TRACK_WINDOW_MS),
        to,
        pageSize: PAGE_SIZE,
        pageToken,
        includeEmbeddings: false,
      });
      for (const event of events) {
        const oldest = found.at(-1);
        // Newest first: past a gap, what follows is an older track with the same id.
        if (oldest && at(oldest) - at(event) > TRACK_GAP_MS) return found;
        if (event.trackId === trackId) found.push(event);
        if (found.length === MAX_TRACK_EVENTS) return found;
      }
      pageToken = nextPageToken;
      if (!pageToken) break;
    }
    if (found.length === 0)
      throw notFound(`worker ${workerId} has no track ${trackId} in the 24 hours before ${to.toISOString()}`);
    return found;
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

function toFaceEvent(doc: FaceEventDoc): FaceEvent {
  return {
    id: doc._id,
    batchId: doc.batchId,
    workerId: doc.workerId,
    siteId: doc.siteId,
    cameraId: doc.cameraId,
    keyId: doc.keyId,
    capturedAt: doc.capturedAt,
    receivedAt: doc.receivedAt,
    frameSeq: doc.frameSeq,
    bbox: doc.bbox,
    landmarks: doc.landmarks,
    detScore: doc.detScore,
    embedding: doc.embedding ? bytesOf(doc.embedding) : Buffer.alloc(0),
    embeddingDim: doc.embeddingDim,
    model: doc.model,
    quality: doc.quality,
    trackId: doc.trackId,
    hasThumbnail: doc.hasThumbnail,
    personId: doc.personId ?? "",
    similarity: doc.similarity ?? 0,
    faceId: doc.faceId ?? "",
  };
}
