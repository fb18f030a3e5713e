/** Enrolled faces: enrolment from a photo, listing, thumbnails, removal; and search by photo. */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { FaceSelection, PersonFace, SearchResult } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { notFound } from "@facerec/shared/errors.ts";
import type { BatchScorer } from "@facerec/shared/gallery/gallery-index.ts";
import { alignFace } from "@facerec/worker/src/aligner.ts";
import type { AuditTrail } from "./audit-trail.ts";
import { type AnalyzerSlot, type EnrolmentRules, toDetectedFaceProto } from "./face-analyzer.ts";
import { type GalleryReplica, vectorBytes } from "./gallery-replica.ts";
import type { FaceDoc, PeopleModels } from "./models.ts";
import { findPeople, findPerson } from "./people.ts";
import { decodePhoto } from "./photo.ts";

const FACE_FIELDS = { cropJpeg: 0, regionJpeg: 0, regionLandmarks: 0 } as const;

export class Faces {
  readonly #models: PeopleModels;
  readonly #analyzer: AnalyzerSlot;
  readonly #replica: GalleryReplica;
  readonly #audit: AuditTrail;
  readonly #rules: EnrolmentRules;
  readonly #scorer: BatchScorer;

  constructor(opts: {
    models: PeopleModels;
    analyzer: AnalyzerSlot;
    replica: GalleryReplica;
    audit: AuditTrail;
    rules: EnrolmentRules;
    scorer: BatchScorer;
  }) {
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
    const doc = {
      _id: crypto.randomUUID(),
      tenantId: actor.tenantId,
      personId,
      box: { ...face.box },
      detScore: face.score,
      detector: analyzer.detector.model,
      cropJpeg: record.cropJpeg,
      cropSize: record.cropSize,
      regionJpeg: record.regionJpeg,
      regionLandmarks: record.regionLandmarks,
      embeddings: record.embeddings.map((e) => ({
        model: e.model,
        dim: e.dim,
        vector: vectorBytes(e.vector),
      })),
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
      if (!face) continue;
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
    opts: { selection: FaceSelection | undefined; maxResults: number; minSimilarity: number },
  ): Promise<SearchResult> {
    const image = await decodePhoto(photo);
    const analyzer = await this.#analyzer.get();
    const faces = await analyzer.detect(image);
    const { face, index } = analyzer.choose(faces, opts.selection, this.#rules, { largest: true });
    const query = await analyzer.embedPrimary(image, face);
    const model = analyzer.primary.model;
    const gallery = this.#replica.gallery.of(actor.tenantId, model);
    const [found = []] =
      (await gallery?.search([query], opts.maxResults, {
        minSimilarity: opts.minSimilarity || -1,
        scorer: this.#scorer,
      })) ?? [];
    const people = await findPeople(
      this.#models.people,
      actor.tenantId,
      found.map((m) => m.personId),
    );
    return {
      searchedFace: toDetectedFaceProto(face, index),
      model,
      // A person deleted a moment ago may still be in this replica's gallery: left out.
      matches: found
        .filter((m) => people.has(m.personId))
        .map((m) => ({ person: people.get(m.personId), similarity: m.similarity, faceId: m.faceId })),
      gallerySize: gallery?.size ?? 0,
    };
  }
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
  };
}
