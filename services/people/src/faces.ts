/** Enrolled faces: enrolment from a photo, listing, thumbnails, removal; and search by photo. */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import type { BatchScorer } from "@facerec/gallery/gallery-index.ts";
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type {
  FaceEvent,
  IngestQueryServiceClient,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type {
  FaceSelection,
  PersonFace,
  SearchResult,
  TrackRef,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { invalidArgument, notFound } from "@facerec/shared/errors.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { alignFace, cropOf } from "@facerec/worker/src/aligner.ts";
import { type EmbedderEntry, MODELS } from "@facerec/worker/src/models/manifest.ts";
import type { AuditTrail } from "./audit-trail.ts";
import { type AnalyzerSlot, type EnrolmentRules, toDetectedFaceProto } from "./face-analyzer.ts";
import { type GalleryReplica, vectorBytes } from "./gallery-replica.ts";
import type { FaceDoc, PeopleModels } from "./models.ts";
import { findPeople, findPerson } from "./people.ts";
import { decodePhoto, PhotoRejected } from "./photo.ts";

/** What a search asks for: people, and optionally the most similar stored events. */
export interface SearchOptions {
  maxResults: number;
  minSimilarity: number;
  /** 0: no events. */
  maxEvents: number;
  /** The events of the last this many hours are compared (1..24). */
  eventsWithinHours: number;
}

const HOUR_MS = 60 * 60 * 1000;
/** Ingest accepts capture times this far ahead of its clock: the window reaches that far too. */
const CAPTURE_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Comparing a day of events reads them all: longer than a gallery search. */
const EVENT_SEARCH_TIMEOUT_MS = 20_000;

const FACE_FIELDS = { cropJpeg: 0, regionJpeg: 0, regionLandmarks: 0 } as const;

export class Faces {
  readonly #models: PeopleModels;
  readonly #analyzer: AnalyzerSlot;
  readonly #replica: GalleryReplica;
  readonly #audit: AuditTrail;
  readonly #rules: EnrolmentRules;
  readonly #scorer: BatchScorer;
  readonly #ingest: IngestQueryServiceClient;

  constructor(opts: {
    models: PeopleModels;
    analyzer: AnalyzerSlot;
    replica: GalleryReplica;
    audit: AuditTrail;
    rules: EnrolmentRules;
    scorer: BatchScorer;
    /** Ingest's query API: the events faces are enrolled or searched from. */
    ingest: IngestQueryServiceClient;
  }) {
    this.#ingest = opts.ingest;
    this.#models = opts.models;
    this.#analyzer = opts.analyzer;
    this.#replica = opts.replica;
    this.#audit = opts.audit;
    this.#rules = opts.rules;
    this.#scorer = opts.scorer;
  }

  /** Finds the face in the photo, stores it for the person, makes it searchable. Throws PhotoRejected. */
  async enrol(
    actor: Actor,
    personId: string,
    photo: Uint8Array,
    selection: FaceSelection | undefined,
  ): Promise<PersonFace> {
    await findPerson(this.#models.people, actor.tenantId, personId);
    const image = await decodePhoto(photo);
    const analyzer = await this.#analyzer.get();
    const { face } = analyzer.choose(await analyzer.detect(image), selection, this.#rules);
    const record = await analyzer.record(image, face);
    return this.#store(actor, personId, {
      box: { ...face.box },
      detScore: face.score,
      detector: analyzer.detector.model,
      cropJpeg: record.cropJpeg,
      cropSize: record.cropSize,
      regionJpeg: record.regionJpeg,
      regionLandmarks: record.regionLandmarks,
      embeddings: record.embeddings,
      eventId: "",
    });
  }

  /**
   * Enrols faces a worker streamed: one event's, or a track's best (EnrollObservedFacesRequest says
   * how they are chosen). Throws PhotoRejected when none can be enrolled; NOT_FOUND for an unknown
   * event or track.
   */
  async enrolObserved(
    actor: Actor,
    personId: string,
    source: { eventId?: string | undefined; track?: TrackRef | undefined },
  ): Promise<PersonFace[]> {
    await findPerson(this.#models.people, actor.tenantId, personId);
    if (source.eventId) {
      const { event, thumbnailJpeg } = await this.#event(actor, source.eventId);
      return [await this.#enrolEvent(actor, personId, event, thumbnailJpeg)];
    }
    if (!source.track?.workerId || !source.track.trackId)
      throw invalidArgument(
        "invalid_track",
        "name an eventId, or a track by workerId and a non-zero trackId",
      );
    const { events } = await callUnary(this.#ingest.listTrackEvents.bind(this.#ingest), {
      actor,
      workerId: source.track.workerId,
      trackId: source.track.trackId,
      to: undefined,
    });
    const chosen = bestOfTrack(events);
    if (chosen.length === 0)
      throw new PhotoRejected(
        "track_without_thumbnails",
        `none of the track's ${events.length} observations has a thumbnail to enrol`,
      );
    const faces: PersonFace[] = [];
    for (const { id } of chosen) {
      const { event, thumbnailJpeg } = await this.#event(actor, id);
      faces.push(await this.#enrolEvent(actor, personId, event, thumbnailJpeg));
    }
    return faces;
  }

  /** The event whole (embedding and thumbnail); NOT_FOUND, as for any id, when it is not the tenant's. */
  async #event(actor: Actor, eventId: string): Promise<{ event: FaceEvent; thumbnailJpeg: Buffer }> {
    const { event, thumbnailJpeg } = await callUnary(this.#ingest.getEvent.bind(this.#ingest), {
      actor,
      eventId,
    });
    if (!event) throw notFound(`event ${eventId} does not exist`);
    return { event, thumbnailJpeg };
  }

  /**
   * Stores an event's face: its embedding for its model as it is, its thumbnail (the worker's crop
   * aligned for that model) as the crop, and, for the other models in use, embeddings of that crop
   * aligned again by the template it was made with (so is any model added later, by the backfill).
   */
  async #enrolEvent(
    actor: Actor,
    personId: string,
    event: FaceEvent,
    thumbnail: Buffer,
  ): Promise<PersonFace> {
    const vector = eventEmbedding(event);
    if (thumbnail.length === 0)
      throw new PhotoRejected(
        "event_without_thumbnail",
        `event ${event.id} has no thumbnail: its crop is what an enrolled face keeps`,
      );
    const image = await decodePhoto(thumbnail);
    const template = cropTemplateOf(event.model);
    const landmarks = template
      ? template.fivePoint.map(([x, y]) => ({
          x: (x * image.width) / template.size,
          y: (y * image.height) / template.size,
        }))
      : [];
    const embeddings = [{ model: event.model, dim: event.embeddingDim, vector }];
    if (landmarks.length > 0) {
      const analyzer = await this.#analyzer.get().catch(() => undefined);
      for (const embedder of analyzer?.embedders ?? []) {
        if (embedder.model === event.model) continue;
        const [other] = await embedder.embed([alignFace(image, landmarks, embedder.crop)]);
        embeddings.push({ model: embedder.model, dim: embedder.dim, vector: other! });
      }
    }
    return this.#store(actor, personId, {
      box: { ...event.bbox! },
      detScore: event.detScore,
      detector: `worker:${event.workerId}`,
      cropJpeg: thumbnail,
      cropSize: image.width,
      regionJpeg: thumbnail,
      regionLandmarks: landmarks.flatMap((p) => [p.x, p.y]),
      embeddings,
      eventId: event.id,
    });
  }

  /** Stores a face for the person, makes it matchable on every replica, audits it. */
  async #store(
    actor: Actor,
    personId: string,
    face: Omit<FaceDoc, "_id" | "tenantId" | "personId" | "embeddings" | "createdAt" | "createdBy"> & {
      embeddings: { model: string; dim: number; vector: Float32Array }[];
    },
  ): Promise<PersonFace> {
    const doc = {
      _id: crypto.randomUUID(),
      tenantId: actor.tenantId,
      personId,
      ...face,
      embeddings: face.embeddings.map((e) => ({ model: e.model, dim: e.dim, vector: vectorBytes(e.vector) })),
      createdAt: new Date(),
      createdBy: actor.displayName || actor.actorId,
    };
    await this.#models.faces.create(doc);
    await this.#models.people.updateOne(
      { _id: personId, tenantId: actor.tenantId },
      { $inc: { faceCount: 1 }, $set: { updatedAt: doc.createdAt } },
    );
    await this.#replica.added(doc);
    await this.#audit.record(actor, "person_face.enrolled", { type: "person_face", id: doc._id }, [
      { field: "personId", oldValue: "", newValue: personId },
      { field: "models", oldValue: "", newValue: doc.embeddings.map((e) => e.model).join(",") },
      ...(face.eventId ? [{ field: "eventId", oldValue: "", newValue: face.eventId }] : []),
    ]);
    return toPersonFace(doc as FaceDoc);
  }

  async list(actor: Actor, personId: string): Promise<PersonFace[]> {
    await findPerson(this.#models.people, actor.tenantId, personId);
    const rows = await this.#models.faces
      .find({ tenantId: actor.tenantId, personId }, FACE_FIELDS)
      .sort({ createdAt: 1, _id: 1 })
      .lean<FaceDoc[]>();
    return rows.map(toPersonFace);
  }

  async thumbnail(actor: Actor, personId: string, faceId: string): Promise<Buffer> {
    const row = await this.#models.faces
      .findOne({ _id: faceId, personId, tenantId: actor.tenantId }, { cropJpeg: 1 })
      .lean<Pick<FaceDoc, "cropJpeg">>();
    if (!row) throw notFound(`face ${faceId} of person ${personId} not found`);
    return bytesOf(row.cropJpeg);
  }

  async remove(actor: Actor, personId: string, faceId: string): Promise<void> {
    const { deletedCount } = await this.#models.faces.deleteOne({
      _id: faceId,
      personId,
      tenantId: actor.tenantId,
    });
    if (deletedCount === 0) throw notFound(`face ${faceId} of person ${personId} not found`);
    await this.#models.people.updateOne(
      { _id: personId, tenantId: actor.tenantId },
      { $inc: { faceCount: -1 }, $set: { updatedAt: new Date() } },
    );
    await this.#replica.removed(actor.tenantId, personId, [faceId]);
    await this.#audit.record(actor, "person_face.deleted", { type: "person_face", id: faceId }, [
      { field: "personId", oldValue: personId, newValue: "" },
    ]);
  }

  /** Deletes every face of a person (crops and embeddings with them); returns how many. */
  async removeAllOf(tenantId: string, personId: string): Promise<number> {
    const rows = await this.#models.faces.find({ tenantId, personId }, { _id: 1 }).lean<{ _id: string }[]>();
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r._id);
    await this.#models.faces.deleteMany({ tenantId, personId, _id: { $in: ids } });
    await this.#replica.removed(tenantId, personId, ids);
    return ids.length;
  }

  /**
   * Gives every stored face an embedding for each model in use that it lacks, computed from its
   * stored region with that model's own alignment: a model added to EMBEDDER_TYPES needs no
   * re-enrolment. Returns how many faces got one. Safe on several replicas at once: a model's
   * embedding is only added to a face that has none for it yet.
   */
  async backfillEmbeddings(): Promise<number> {
    const analyzer = await this.#analyzer.get();
    const rows = await this.#models.faces
      .find({}, { _id: 1, embeddings: 1 })
      .lean<{ _id: string; embeddings: { model: string }[] }[]>();
    let updated = 0;
    for (const row of rows) {
      const have = new Set((row.embeddings ?? []).map((e) => e.model));
      const missing = analyzer.embedders.filter((e) => !have.has(e.model));
      if (missing.length === 0) continue;
      const face = await this.#models.faces.findOne({ _id: row._id }).lean<FaceDoc>();
      // Gone, or enrolled from an event of a model whose crop layout is unknown: nothing to align.
      if (!face || (face.regionLandmarks ?? []).length === 0) continue;
      const region = await decodePhoto(bytesOf(face.regionJpeg));
      const points = face.regionLandmarks;
      const landmarks = Array.from({ length: points.length / 2 }, (_, i) => ({
        x: points[2 * i]!,
        y: points[2 * i + 1]!,
      }));
      for (const embedder of missing) {
        const [vector] = await embedder.embed([alignFace(region, landmarks, embedder.crop)]);
        await this.#models.faces.updateOne(
          { _id: face._id, "embeddings.model": { $ne: embedder.model } },
          {
            $push: { embeddings: { model: embedder.model, dim: embedder.dim, vector: vectorBytes(vector!) } },
          },
        );
      }
      const after = await this.#models.faces
        .findOne({ _id: face._id }, { _id: 1, tenantId: 1, personId: 1, embeddings: 1 })
        .lean<FaceDoc>();
      if (after) await this.#replica.added(after);
      updated++;
    }
    return updated;
  }

  /** The people most like the face in the photo (the largest, unless selected). Throws PhotoRejected. */
  async search(
    actor: Actor,
    photo: Uint8Array,
    opts: SearchOptions & { selection: FaceSelection | undefined },
  ): Promise<SearchResult> {
    const image = await decodePhoto(photo);
    const analyzer = await this.#analyzer.get();
    const faces = await analyzer.detect(image);
    const { face, index } = analyzer.choose(faces, opts.selection, this.#rules, { largest: true });
    const query = await analyzer.embedPrimary(image, face);
    return {
      ...(await this.#searchGallery(actor, analyzer.primary.model, query, opts)),
      ...(await this.#searchEvents(actor, analyzer.primary.model, query, opts)),
      searchedFace: toDetectedFaceProto(face, index),
      eventId: "",
    };
  }

  /**
   * The people most like a stored event's face: its own embedding against the gallery of its
   * model. NOT_FOUND for an unknown event; PhotoRejected when it carries no usable embedding.
   */
  async searchByEvent(actor: Actor, eventId: string, opts: SearchOptions): Promise<SearchResult> {
    const { event } = await this.#event(actor, eventId);
    const query = eventEmbedding(event);
    return {
      ...(await this.#searchGallery(actor, event.model, query, opts)),
      // The event itself is the most similar: left out.
      ...(await this.#searchEvents(actor, event.model, query, opts, eventId)),
      searchedFace: undefined,
      eventId,
    };
  }

  /**
   * The stored events most like `query`, when the search asks for them (ingest's SearchEvents,
   * over the last `eventsWithinHours`).
   */
  async #searchEvents(
    actor: Actor,
    model: string,
    query: Float32Array,
    opts: SearchOptions,
    excludeEventId = "",
  ): Promise<Pick<SearchResult, "events" | "eventsCompared" | "eventsTruncated">> {
    if (!opts.maxEvents) return { events: [], eventsCompared: 0, eventsTruncated: false };
    const to = Date.now() + CAPTURE_CLOCK_SKEW_MS;
    const found = await callUnary(
      this.#ingest.searchEvents.bind(this.#ingest),
      {
        actor,
        model,
        embedding: Buffer.from(query.buffer, query.byteOffset, query.byteLength),
        // One more: a search by event finds that event first.
        maxResults: Math.min(100, opts.maxEvents + 1),
        minSimilarity: opts.minSimilarity,
        from: new Date(to - CAPTURE_CLOCK_SKEW_MS - (opts.eventsWithinHours || 1) * HOUR_MS),
        to: new Date(to),
      },
      EVENT_SEARCH_TIMEOUT_MS,
    );
    return {
      events: found.matches.filter((m) => m.event?.id !== excludeEventId).slice(0, opts.maxEvents),
      eventsCompared: found.compared,
      eventsTruncated: found.truncated,
    };
  }

  async #searchGallery(
    actor: Actor,
    model: string,
    query: Float32Array,
    opts: { maxResults: number; minSimilarity: number },
  ): Promise<Pick<SearchResult, "model" | "matches" | "gallerySize">> {
    const gallery = this.#replica.gallery.of(actor.tenantId, model);
    const [found = []] =
      (gallery?.dim === query.length
        ? await gallery.search([query], opts.maxResults, {
            minSimilarity: opts.minSimilarity || -1,
            scorer: this.#scorer,
          })
        : undefined) ?? [];
    const people = await findPeople(
      this.#models.people,
      actor.tenantId,
      found.map((m) => m.personId),
    );
    return {
      model,
      // A person deleted a moment ago may still be in this replica's gallery: left out.
      matches: found
        .filter((m) => people.has(m.personId))
        .map((m) => ({ person: people.get(m.personId), similarity: m.similarity, faceId: m.faceId })),
      gallerySize: gallery?.size ?? 0,
    };
  }
}

/** Faces taken from one track at most. */
const TRACK_FACES = 5;
/** Faces taken from one track are at least this far apart in capture time (different pose, light). */
const TRACK_FACE_SPACING_MS = 1000;

/**
 * A track's faces worth enrolling: those with a thumbnail, highest quality (then detection score)
 * first, each at least TRACK_FACE_SPACING_MS from those taken before it, at most TRACK_FACES.
 */
export function bestOfTrack(events: FaceEvent[]): FaceEvent[] {
  const ranked = events
    .filter((e) => e.hasThumbnail)
    .sort((a, b) => b.quality - a.quality || b.detScore - a.detScore);
  const chosen: FaceEvent[] = [];
  const at = (e: FaceEvent) => e.capturedAt!.getTime();
  for (const event of ranked) {
    if (chosen.length === TRACK_FACES) break;
    if (chosen.every((c) => Math.abs(at(c) - at(event)) >= TRACK_FACE_SPACING_MS)) chosen.push(event);
  }
  return chosen;
}

/** An event's embedding, L2-normalised; PhotoRejected `event_without_embedding` when it has none usable. */
function eventEmbedding(event: FaceEvent): Float32Array {
  const bytes = event.embedding;
  if (event.embeddingDim === 0 || bytes.length !== event.embeddingDim * 4)
    throw new PhotoRejected("event_without_embedding", `event ${event.id} carries no usable embedding`);
  const vector = embeddingValues(bytes);
  const norm = Math.hypot(...vector);
  if (!Number.isFinite(norm) || norm === 0)
    throw new PhotoRejected("event_without_embedding", `event ${event.id} carries no usable embedding`);
  return vector.map((v) => v / norm);
}

/** The crop layout a worker's thumbnail of `model` has (the embedder's aligned crop), when known. */
function cropTemplateOf(
  model: string,
): { fivePoint: readonly (readonly [number, number])[]; size: number } | undefined {
  const entry = Object.values(MODELS).find((m) => m.id === model && "crop" in m);
  if (!entry || !("crop" in entry)) return undefined;
  const crop = cropOf(entry as EmbedderEntry);
  return { fivePoint: crop.template.fivePoint, size: crop.size };
}

export function toPersonFace(doc: FaceDoc): PersonFace {
  const box = doc.box ?? {};
  return {
    id: doc._id,
    personId: doc.personId,
    bbox: { x: box.x ?? 0, y: box.y ?? 0, width: box.width ?? 0, height: box.height ?? 0 },
    detScore: doc.detScore,
    detector: doc.detector,
    embeddings: (doc.embeddings ?? []).map((e) => ({ model: e.model, embeddingDim: e.dim })),
    cropSize: doc.cropSize,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    eventId: doc.eventId ?? "",
  };
}
