/**
 * This replica's copy of every tenant's gallery, kept current without change streams (FerretDB has
 * none), the way keys keeps revocations current: every face added or removed is written to
 * `gallery_changes` and applied here at once; every GALLERY_POLL_MS each replica reads the rows
 * written since its last look (less a clock-skew margin) and applies those of other replicas. So a
 * face enrolled on one replica is searchable on all of them within one poll interval plus a query.
 *
 * Applying is idempotent and order-proof: an `added` row makes the replica read the face itself
 * (gone by then: nothing to add), a `removed` row drops it, a `thresholds` row re-reads the tenant's
 * settings. Every change applied here is also passed to this replica's subscribers (WatchGallery).
 */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import { Gallery } from "@facerec/gallery/gallery-index.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { mongo } from "mongoose";
import type { GalleryChangeDoc, PeopleModels, RecognitionSettingsDoc } from "./models.ts";

/** Re-read this far behind the newest change seen, to tolerate clock skew between replicas. */
const SKEW_MS = 5000;
/** Changes are kept this long; a replica that starts reads the faces themselves, not the changes. */
export const CHANGE_RETENTION_MS = 60 * 60 * 1000;
/** Change rows per database reply: every reply stays small whatever the burst. */
const CHANGES_PER_READ = 500;
/** Faces read by `_id` at once; past FULL_READ_FACES, the collection is read once instead. */
const FACE_READERS = 8;
const FULL_READ_FACES = 1000;

/** A change as subscribers see it: a face's embeddings added, a face removed, a tenant's thresholds. */
export type GalleryEvent =
  | { kind: "added"; face: FaceVectors }
  | { kind: "removed"; tenantId: string; personId: string; faceId: string }
  | { kind: "thresholds"; tenantId: string; thresholds: Record<string, number> };
type Listener = (event: GalleryEvent) => void;

/** What the gallery needs of a face. */
export interface FaceVectors {
  _id: string;
  tenantId: string;
  personId: string;
  embeddings?: { model: string; vector: Buffer | mongo.Binary }[] | null;
}

/** A stored embedding as float32 (see embeddingValues: read it, copy it to keep it). */
export function vectorOf(bytes: Buffer | mongo.Binary): Float32Array {
  return embeddingValues(bytesOf(bytes));
}

export function vectorBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export class GalleryReplica {
  readonly gallery = new Gallery();
  readonly #models: PeopleModels;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #applied = new Map<string, number>();
  readonly #listeners = new Set<Listener>();
  /** Each tenant's own thresholds, for those that set any. */
  readonly thresholds = new Map<string, Record<string, number>>();
  #cursor = Date.now() - SKEW_MS;
  #polling: Repeating | undefined;
  #lastSweep = 0;

  constructor(opts: { models: PeopleModels; log: Logger; pollMs: number }) {
    this.#models = opts.models;
    this.#log = opts.log;
    this.#pollMs = opts.pollMs;
  }

  /** Reads every enrolled face's embeddings into memory. */
  async load(): Promise<void> {
    this.#cursor = Date.now() - SKEW_MS;
    const started = Date.now();
    const cursor = this.#models.faces
      .find({}, { _id: 1, tenantId: 1, personId: 1, embeddings: 1 })
      .lean<FaceVectors[]>()
      .cursor({ batchSize: 500 });
    for await (const face of cursor) this.#add(face);
    for (const row of await this.#models.recognitionSettings.find({}).lean<RecognitionSettingsDoc[]>())
      this.#setThresholds(row._id, row.thresholds);
    this.#log.info({ faces: this.gallery.size, ms: Date.now() - started }, "gallery loaded");
  }

  start(): void {
    this.#polling = repeat(
      async () => {
        await this.#poll();
        if (Date.now() - this.#lastSweep > 60_000) await this.#sweep();
      },
      { everyMs: this.#pollMs, onError: (err) => this.#log.warn({ err }, "gallery poll failed; retrying") },
    );
  }

  /** Waits for a poll in flight: the connection may be closed once this resolves. */
  async stop(): Promise<void> {
    await this.#polling?.stop();
    this.#listeners.clear();
  }

  /** Calls `listener` with every change applied from now on; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Announces a tenant's new thresholds to every replica and applies them here at once. */
  async thresholdsChanged(tenantId: string, thresholds: Record<string, number>): Promise<void> {
    this.#setThresholds(tenantId, thresholds);
    await this.#announce(tenantId, "thresholds", "", "");
  }

  /**
   * The changes written at or after `since` (ms), as events with the faces' current embeddings:
   * what a subscriber that resumes missed. Undefined when they may be incomplete (swept).
   */
  async changesSince(since: number): Promise<GalleryEvent[] | undefined> {
    if (since < Date.now() - CHANGE_RETENTION_MS + SKEW_MS) return undefined;
    const rows = await this.#changes(since - SKEW_MS);
    const faces = await this.#faces([
      ...new Set(rows.filter((r) => r.kind === "added").map((r) => r.faceId)),
    ]);
    const settings = await this.#settingsOf([
      ...new Set(rows.filter((r) => r.kind === "thresholds").map((r) => r.tenantId)),
    ]);
    const events: GalleryEvent[] = [];
    for (const row of rows) {
      if (row.kind === "removed")
        events.push({ kind: "removed", tenantId: row.tenantId, personId: row.personId, faceId: row.faceId });
      else if (row.kind === "thresholds")
        events.push({
          kind: "thresholds",
          tenantId: row.tenantId,
          thresholds: settings.get(row.tenantId) ?? {},
        });
      else {
        const face = faces.get(row.faceId);
        // Gone since: its `removed` row follows.
        if (face) events.push({ kind: "added", face });
      }
    }
    return events;
  }

  #emit(event: GalleryEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #setThresholds(tenantId: string, thresholds: Record<string, number> | undefined): void {
    const own = { ...(thresholds ?? {}) };
    if (Object.keys(own).length > 0) this.thresholds.set(tenantId, own);
    else this.thresholds.delete(tenantId);
    this.#emit({ kind: "thresholds", tenantId, thresholds: own });
  }

  /** Announces a stored face to every replica and makes it searchable here at once. */
  async added(face: FaceVectors): Promise<void> {
    this.#add(face);
    await this.#announce(face.tenantId, "added", face._id, face.personId);
  }

  /** Announces removed faces to every replica and drops them here at once. */
  async removed(tenantId: string, personId: string, faceIds: string[]): Promise<void> {
    for (const faceId of faceIds) {
      this.#remove(tenantId, personId, faceId);
      await this.#announce(tenantId, "removed", faceId, personId);
    }
  }

  #add(face: FaceVectors): void {
    for (const e of face.embeddings ?? [])
      this.gallery.add({
        tenantId: face.tenantId,
        model: e.model,
        faceId: face._id,
        personId: face.personId,
        vector: vectorOf(e.vector),
      });
    this.#emit({ kind: "added", face });
  }

  #remove(tenantId: string, personId: string, faceId: string): void {
    this.gallery.remove(faceId);
    this.#emit({ kind: "removed", tenantId, personId, faceId });
  }

  async #announce(tenantId: string, kind: GalleryChangeDoc["kind"], faceId: string, personId: string) {
    const id = crypto.randomUUID();
    await this.#models.galleryChanges.create({ _id: id, tenantId, kind, faceId, personId, at: new Date() });
    this.#applied.set(id, Date.now());
  }

  async #poll(): Promise<void> {
    // Read in batches (no database reply grows with a burst of changes, e.g. a bulk import), applied together.
    const rows = await this.#changes(this.#cursor - SKEW_MS);
    const fresh = rows.filter((r) => !this.#applied.has(r._id));
    const toRead = new Set<string>();
    const tenantsToRead = new Set<string>();
    for (const change of fresh) {
      if (change.kind === "removed") {
        this.#remove(change.tenantId, change.personId, change.faceId);
        toRead.delete(change.faceId);
      } else if (change.kind === "thresholds") tenantsToRead.add(change.tenantId);
      else toRead.add(change.faceId);
    }
    if (tenantsToRead.size > 0) {
      const settings = await this.#settingsOf([...tenantsToRead]);
      for (const tenantId of tenantsToRead) this.#setThresholds(tenantId, settings.get(tenantId));
    }
    for (const face of (await this.#faces([...toRead])).values()) this.#add(face);
    for (const change of fresh) this.#applied.set(change._id, change.at.getTime());
    const newest = rows.at(-1)?.at.getTime();
    if (newest !== undefined && newest > this.#cursor) this.#cursor = newest;
    for (const [id, at] of this.#applied) if (at < this.#cursor - 2 * SKEW_MS) this.#applied.delete(id);
  }

  /**
   * Change rows written at or after `fromMs`, oldest first: one query, fetched CHANGES_PER_READ at
   * a time. FerretDB filters and sorts a query after reading the whole collection, so pages of
   * their own queries read it once per page (10,000 changes: 9 s in pages of 500, 0.7 s as one
   * cursor, measured on the embedded FerretDB).
   */
  async #changes(fromMs: number): Promise<GalleryChangeDoc[]> {
    const rows: GalleryChangeDoc[] = [];
    const cursor = this.#models.galleryChanges
      .find({ at: { $gte: new Date(fromMs) } })
      .sort({ at: 1, _id: 1 })
      .lean<GalleryChangeDoc[]>()
      .cursor({ batchSize: CHANGES_PER_READ });
    for await (const row of cursor) rows.push(row);
    return rows;
  }

  /**
   * Faces by id (their embeddings); missing ones are gone. One `_id` read each, FACE_READERS at a
   * time: FerretDB converts every document an `$in` or a scan touches, but only the match of an
   * `_id` lookup, so this stays cheap however large the gallery.
   */
  async #faces(ids: string[]): Promise<Map<string, FaceVectors>> {
    const found = new Map<string, FaceVectors>();
    if (ids.length > FULL_READ_FACES) {
      // A bulk import: one pass over the collection (cursor batches) beats thousands of lookups.
      const wanted = new Set(ids);
      const all = this.#models.faces
        .find({}, { _id: 1, tenantId: 1, personId: 1, embeddings: 1 })
        .lean<FaceVectors[]>()
        .cursor({ batchSize: 200 });
      for await (const face of all) if (wanted.has(face._id)) found.set(face._id, face);
      return found;
    }
    const queue = [...ids];
    const reader = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const face = await this.#models.faces
          .findOne({ _id: id }, { _id: 1, tenantId: 1, personId: 1, embeddings: 1 })
          .lean<FaceVectors>();
        if (face) found.set(face._id, face);
      }
    };
    await Promise.all(Array.from({ length: FACE_READERS }, reader));
    return found;
  }

  async #settingsOf(tenantIds: string[]): Promise<Map<string, Record<string, number>>> {
    if (tenantIds.length === 0) return new Map();
    const rows = await this.#models.recognitionSettings
      .find({ _id: { $in: tenantIds } })
      .lean<RecognitionSettingsDoc[]>();
    return new Map(rows.map((r) => [r._id, r.thresholds]));
  }

  async #sweep(): Promise<void> {
    this.#lastSweep = Date.now();
    await this.#models.galleryChanges.deleteMany({ at: { $lt: new Date(Date.now() - CHANGE_RETENTION_MS) } });
  }
}
