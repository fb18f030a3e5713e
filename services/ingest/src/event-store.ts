/**
 * Data access for face events: the hot write path and the reads behind the internal query API.
 * Events are stored per tenant and hour of capture (event-partitions.ts): full events in
 * `events_<hour>`, read by `_id` only (thumbnails, embeddings), and the listing in
 * `event_pages_<hour>` (event-listing.ts), which is what pages are read from.
 *
 * Exactly-once in effect without transactions: a batch first claims its id for its content
 * (batch-claims.ts; the same id with other content is refused), and every observation's `_id` is derived from
 * (tenant, batch id, position in the batch) and its hour, and the batch is written with one
 * unordered insertMany per hour. A replay finds every `_id` taken and stores nothing (a duplicate).
 * If the process or the database died half-way through the first write, the replay inserts exactly
 * the missing observations and skips the rest, so the batch ends complete with no observation twice.
 * Every write of a batch, replays included, then appends it to the listing (a page drops the
 * repeats), so a crash between the two writes leaves nothing unlisted once the unacknowledged batch
 * is replayed.
 */
import { createHash } from "node:crypto";
import type { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import type { FaceEvent } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { GroupedInserts } from "@facerec/shared/db/grouped-inserts.ts";
import { clampPageSize, decodePageToken, encodePageToken } from "@facerec/shared/db/pagination.ts";
import type { mongo } from "mongoose";
import { BatchClaims } from "./batch-claims.ts";
import { EventListing, type ListedEvent } from "./event-listing.ts";
import { EventPartitions, HOUR_MS, hourKey, PartitionDirectory } from "./event-partitions.ts";
import type { Matcher } from "./matcher.ts";
import type { FaceEventDoc, IngestModels } from "./models.ts";

/** Acknowledged by a majority and journaled: an ack must survive losing the primary. */
export const DURABLE_WRITE = { w: "majority", j: true } as const;
/**
 * Events per insert: concurrent batches of one hour go together (group commit) up to this many, so
 * streams at full speed cost a few commits a second; below FerretDB's bulk-write danger zone.
 */
const EVENTS_PER_WRITE = 96;
/**
 * Inserts into one collection under way at once: FerretDB overlaps concurrent writes (it commits one
 * at a time, but not all of a write is its commit), so three writes of 96 beat one
 * (`npm run bench:ingest`, 8 streams, quiet machine, 2026-12-06: (b)/(a) 0.61-0.74 in seven runs
 * with one, 0.76-0.83 in two with three; with matching on, 0.56-0.68 and 0.81-0.90).
 */
const EVENT_WRITES_AT_ONCE = 3;
const DEFAULT_PAGE_SIZE = 100;
/** Point reads of embeddings in flight for one page. */
const EMBEDDING_READS = 8;
/** From this many embeddings wanted in one hour, the hour is read once instead of by `_id`. */
const EMBEDDINGS_PER_HOUR_READ = 16;
/** An event id: the hour of capture, then 22 base64url characters. */
const EVENT_ID = /^(\d{10})-[A-Za-z0-9_-]{22}$/;

/** Who sent a batch: taken from the stream's verified token, never from the batch. */
export interface BatchOrigin {
  tenantId: string;
  keyId: string;
}

export interface StoredBatch {
  /** Observations this call wrote. */
  accepted: number;
  /** True when every observation was already stored. */
  duplicate: boolean;
  /** Set when the batch id was stored before with other content: nothing was stored (batch-claims.ts). */
  conflict?: true;
}

export interface EventQuery {
  siteId?: string;
  cameraId?: string;
  workerId?: string;
  personId?: string;
  from?: Date | undefined;
  to?: Date | undefined;
  pageSize: number;
  pageToken: string;
  includeEmbeddings: boolean;
}

/**
 * The UTC hour of capture (`yyyymmddhh`, so the event's collection is known from its id), a dash,
 * and 22 base64url characters (132 bits) of SHA-256 over the observation's identity. A replay has
 * the same capture time, hence the same id.
 */
export function eventId(tenantId: string, batchId: string, batchIndex: number, capturedAt: Date): string {
  const digest = createHash("sha256").update(`${tenantId}\n${batchId}\n${batchIndex}`).digest("base64url");
  return `${hourKey(capturedAt.getTime())}-${digest.slice(0, 22)}`;
}

/** The documents a validated batch is stored as, one per observation (exported for the benchmark's baseline). */
export function toEventDocuments(origin: BatchOrigin, batch: FaceBatch, receivedAt: Date): FaceEventDoc[] {
  return batch.observations.map(
    (o, batchIndex): FaceEventDoc => ({
      _id: eventId(origin.tenantId, batch.batchId, batchIndex, o.capturedAt!),
      tenantId: origin.tenantId,
      batchId: batch.batchId,
      batchIndex,
      workerId: batch.workerId,
      siteId: batch.siteId,
      cameraId: batch.cameraId,
      keyId: origin.keyId,
      capturedAt: o.capturedAt!,
      receivedAt,
      frameSeq: o.frameSeq,
      bbox: { x: o.bbox!.x, y: o.bbox!.y, width: o.bbox!.width, height: o.bbox!.height },
      landmarks: o.landmarks,
      detScore: o.detScore,
      // A Buffer is stored as BinData; the driver copies it while serialising.
      embedding: o.embedding,
      embeddingDim: o.embeddingDim,
      model: o.model,
      quality: o.quality,
      trackId: o.trackId,
      hasThumbnail: o.thumbnailJpeg.length > 0,
      ...(o.thumbnailJpeg.length > 0 ? { thumbnail: o.thumbnailJpeg } : {}),
      // Unmatched until the matcher says otherwise.
      personId: null,
      similarity: null,
      faceId: null,
    }),
  );
}

/** What a stored batch is handed on to; a rejection fails the batch (it is not acknowledged). */
export type AfterStore = (tenantId: string, documents: FaceEventDoc[], duplicate: boolean) => Promise<void>;

export class EventStore {
  #afterStore: AfterStore | undefined;
  readonly #partitions: EventPartitions;
  /** The events' listing; an erasure edits it through this same instance (its writers' buckets). */
  readonly listing: EventListing;
  readonly #matcher: Matcher | undefined;
  readonly #claims: BatchClaims;
  readonly #inserts = new GroupedInserts<FaceEventDoc>({
    maxDocs: EVENTS_PER_WRITE,
    maxWritesPerCollection: EVENT_WRITES_AT_ONCE,
    writeConcern: DURABLE_WRITE,
  });

  /** With a matcher, each observation is matched to its tenant's gallery before it is stored. */
  constructor(models: IngestModels, matcher?: Matcher) {
    this.#matcher = matcher;
    this.#partitions = new EventPartitions(models.database);
    this.#claims = new BatchClaims(this.#partitions, DURABLE_WRITE);
    this.listing = new EventListing(
      this.#partitions,
      new PartitionDirectory(this.#partitions),
      DURABLE_WRITE,
    );
  }

  #events(tenantId: string, hour: string): mongo.Collection<FaceEventDoc> {
    return this.#partitions.open<FaceEventDoc>(this.#partitions.partition("events", tenantId, hour));
  }

  /** Stores a validated batch; throws when the database fails (nothing may be acknowledged then). */
  async insertBatch(origin: BatchOrigin, batch: FaceBatch, receivedAt: Date): Promise<StoredBatch> {
    const documents = toEventDocuments(origin, batch, receivedAt);
    const firstCapture = Math.min(...documents.map((d) => d.capturedAt.getTime()));
    const [claim] = await Promise.all([
      this.#claims.claim(origin.tenantId, batch, hourKey(firstCapture)),
      this.#matcher?.match(origin.tenantId, documents),
    ]);
    if (claim === "conflict") return { accepted: 0, duplicate: false, conflict: true };
    const stored = await this.insertDocuments(origin.tenantId, documents);
    await this.#afterStore?.(origin.tenantId, documents, stored.duplicate);
    return stored;
  }

  /**
   * Stores events of one tenant in their hours and lists them; what is stored already is skipped.
   * For a batch's documents, and for events moved from an older layout (legacy-events.ts).
   */
  async insertDocuments(tenantId: string, documents: FaceEventDoc[]): Promise<StoredBatch> {
    const byHour = Map.groupBy(documents, (d) => hourKey(d.capturedAt.getTime()));
    const inserted = await Promise.all(
      [...byHour].map(async ([hour, ofHour]) => {
        await this.#partitions.record(this.#partitions.partition("events", tenantId, hour));
        const storedBefore = await this.#inserts.insert(this.#events(tenantId, hour), ofHour);
        return ofHour.length - storedBefore.size;
      }),
    );
    if (documents.length > 0) await this.listing.append(tenantId, documents.map(toListedEvent));
    const accepted = inserted.reduce((sum, n) => sum + n, 0);
    return { accepted, duplicate: documents.length > 0 && accepted === 0 };
  }

  /** Runs `hook` on every stored batch before insertBatch returns, so before its ack (the sighting tracker). */
  afterStore(hook: AfterStore): void {
    this.#afterStore = hook;
  }

  async list(tenantId: string, query: EventQuery): Promise<{ events: FaceEvent[]; nextPageToken: string }> {
    const size = clampPageSize(query.pageSize, DEFAULT_PAGE_SIZE);
    const after = query.pageToken ? decodePageToken(query.pageToken) : undefined;
    const page = await this.listing.page(
      tenantId,
      {
        siteId: query.siteId,
        cameraId: query.cameraId,
        workerId: query.workerId,
        personId: query.personId,
        fromMs: query.from?.getTime(),
        toMs: query.to?.getTime(),
      },
      after,
      size,
    );
    const embeddings = query.includeEmbeddings
      ? await this.#embeddings(tenantId, page.events)
      : new Map<string, Buffer>();
    return {
      events: page.events.map((e) => toFaceEvent(e, embeddings.get(e.id))),
      nextPageToken: page.next ? encodePageToken(page.next.at, page.next.id) : "",
    };
  }

  /**
   * Embeddings by event id, from each event's hour: a few by `_id`, one at a time; many in one read
   * of the hour (each `_id` read is a scan of the hour in SQLite, so past a few dozen, reading the
   * hour once is cheaper).
   */
  async #embeddings(tenantId: string, events: ListedEvent[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const keep = (row: Pick<FaceEventDoc, "_id" | "embedding"> | null) => {
      if (row?.embedding) found.set(row._id, bytesOf(row.embedding));
    };
    const byHour = Map.groupBy(events, (e) => hourKey(e.capturedAt));
    const single: ListedEvent[] = [];
    await Promise.all(
      [...byHour].map(async ([hour, ofHour]) => {
        if (ofHour.length < EMBEDDINGS_PER_HOUR_READ) return void single.push(...ofHour);
        const ids = ofHour.map((e) => e.id);
        const rows = this.#events(tenantId, hour).find(
          { _id: { $in: ids } },
          { projection: { embedding: 1 } },
        );
        for await (const row of rows) keep(row);
      }),
    );
    const reader = async () => {
      for (let event = single.shift(); event; event = single.shift()) {
        const collection = this.#events(tenantId, hourKey(event.capturedAt));
        keep(await collection.findOne({ _id: event.id }, { projection: { embedding: 1 } }));
      }
    };
    await Promise.all(Array.from({ length: EMBEDDING_READS }, reader));
    return found;
  }

  /** The event's JPEG, or undefined when it is not the tenant's or has none. */
  async thumbnail(tenantId: string, id: string): Promise<Buffer | undefined> {
    const hour = EVENT_ID.exec(id)?.[1];
    if (!hour) return undefined;
    const row = await this.#events(tenantId, hour).findOne({ _id: id }, { projection: { thumbnail: 1 } });
    return row?.thumbnail ? bytesOf(row.thumbnail) : undefined;
  }

  /**
   * Deletes every tenant's events of the hours that ended at or before `cutoff` (so an event goes
   * at most an hour after it expired), by dropping those hours' collections; returns how many.
   */
  async deleteCapturedBefore(cutoff: Date): Promise<number> {
    const partitions = await this.#partitions.list();
    let deleted = 0;
    for (const p of partitions) {
      if (p.kind === "events" && p.start + HOUR_MS <= cutoff.getTime()) {
        deleted += await this.#partitions.open(p).estimatedDocumentCount();
      }
    }
    await this.#partitions.dropBefore(cutoff.getTime(), partitions);
    return deleted;
  }
}

function toListedEvent(doc: FaceEventDoc): ListedEvent {
  return {
    id: doc._id,
    batchId: doc.batchId,
    workerId: doc.workerId,
    siteId: doc.siteId,
    cameraId: doc.cameraId,
    keyId: doc.keyId,
    capturedAt: doc.capturedAt.getTime(),
    receivedAt: doc.receivedAt.getTime(),
    frameSeq: doc.frameSeq,
    bbox: {
      x: doc.bbox.x ?? 0,
      y: doc.bbox.y ?? 0,
      width: doc.bbox.width ?? 0,
      height: doc.bbox.height ?? 0,
    },
    landmarks: doc.landmarks,
    detScore: doc.detScore,
    embeddingDim: doc.embeddingDim,
    model: doc.model,
    quality: doc.quality,
    trackId: doc.trackId,
    hasThumbnail: doc.hasThumbnail,
    personId: doc.personId ?? null,
    similarity: doc.similarity ?? null,
    faceId: doc.faceId ?? null,
  };
}

function toFaceEvent(event: ListedEvent, embedding: Buffer | undefined): FaceEvent {
  return {
    ...event,
    capturedAt: new Date(event.capturedAt),
    receivedAt: new Date(event.receivedAt),
    embedding: embedding ?? Buffer.alloc(0),
    personId: event.personId ?? "",
    similarity: event.similarity ?? 0,
    faceId: event.faceId ?? "",
  };
}

/**
 * Every stored event matching `filter`, of every tenant and hour: for tests and tools (it reads
 * everything), never on a request path.
 */
export async function findStoredEvents(
  db: mongo.Db,
  filter: mongo.Filter<FaceEventDoc>,
): Promise<FaceEventDoc[]> {
  const partitions = new EventPartitions(db);
  const ofEvents = (await partitions.list()).filter((p) => p.kind === "events");
  const found = await Promise.all(
    ofEvents.map((p) => partitions.open<FaceEventDoc>(p).find(filter).toArray()),
  );
  return found.flat();
}
