/** A tenant's people: create, list, read, change, delete; every change audited. */
import type { Actor, FieldChange } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { Person } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { AppError, invalidArgument, notFound } from "@facerec/shared/errors.ts";
import { status } from "@grpc/grpc-js";
import type { AuditTrail } from "./audit-trail.ts";
import type { Faces } from "./faces.ts";
import type { PeopleModels, PersonDoc } from "./models.ts";
import type { PersonErasures } from "./person-erasures.ts";

export interface PersonInput {
  displayName: string;
  externalId: string;
  notes: string;
  labels: string[];
  watchlist: boolean;
}

export interface PersonChanges {
  displayName?: string | undefined;
  externalId?: string | undefined;
  notes?: string | undefined;
  labels?: string[] | undefined;
  watchlist?: boolean | undefined;
}

const LIMITS = { displayName: 200, externalId: 128, notes: 2000, label: 64, labels: 32 };

function displayNameOf(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > LIMITS.displayName)
    throw invalidArgument(
      "invalid_display_name",
      `displayName must be 1 to ${LIMITS.displayName} characters`,
    );
  return name;
}

function externalIdOf(value: string): string {
  const id = value.trim();
  if (id.length > LIMITS.externalId)
    throw invalidArgument(
      "invalid_external_id",
      `externalId must be at most ${LIMITS.externalId} characters`,
    );
  return id;
}

function notesOf(value: string): string {
  if (value.length > LIMITS.notes)
    throw invalidArgument("invalid_notes", `notes must be at most ${LIMITS.notes} characters`);
  return value;
}

function labelsOf(values: string[]): string[] {
  const labels = [...new Set(values.map((l) => l.trim()))];
  if (labels.length > LIMITS.labels || labels.some((l) => l.length < 1 || l.length > LIMITS.label))
    throw invalidArgument(
      "invalid_labels",
      `at most ${LIMITS.labels} labels of 1 to ${LIMITS.label} characters each`,
    );
  return labels;
}

const externalIdKey = (externalId: string, id: string) => (externalId ? `x:${externalId}` : `id:${id}`);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Turns a duplicate-key error on (tenant, externalIdKey) into ALREADY_EXISTS. */
function externalIdTaken(err: unknown, externalId: string): never {
  if (isDuplicateKey(err))
    throw new AppError(
      status.ALREADY_EXISTS,
      "external_id_taken",
      `another person of this tenant has externalId ${JSON.stringify(externalId)}`,
    );
  throw err;
}

export class People {
  readonly #people: PeopleModels["people"];
  readonly #faces: Faces;
  readonly #audit: AuditTrail;
  readonly #erasures: PersonErasures;

  constructor(opts: { models: PeopleModels; faces: Faces; audit: AuditTrail; erasures: PersonErasures }) {
    this.#people = opts.models.people;
    this.#faces = opts.faces;
    this.#audit = opts.audit;
    this.#erasures = opts.erasures;
  }

  async create(actor: Actor, input: PersonInput): Promise<Person> {
    const id = crypto.randomUUID();
    const now = new Date();
    const displayName = displayNameOf(input.displayName);
    const externalId = externalIdOf(input.externalId);
    const doc = {
      _id: id,
      tenantId: actor.tenantId,
      displayName,
      nameKey: displayName.toLowerCase(),
      externalId,
      externalIdKey: externalIdKey(externalId, id),
      notes: notesOf(input.notes),
      labels: labelsOf(input.labels),
      watchlist: input.watchlist,
      faceCount: 0,
      createdAt: now,
      updatedAt: now,
      createdBy: actor.displayName || actor.actorId,
    };
    await this.#people.create(doc).catch((err: unknown) => externalIdTaken(err, externalId));
    await this.#audit.record(actor, "person.created", { type: "person", id }, [
      { field: "displayName", oldValue: "", newValue: displayName },
      ...(externalId ? [{ field: "externalId", oldValue: "", newValue: externalId }] : []),
      ...(doc.watchlist ? [{ field: "watchlist", oldValue: "", newValue: "true" }] : []),
    ]);
    return toPerson(doc as PersonDoc);
  }

  async list(
    actor: Actor,
    query: { pageSize: number; pageToken: string; namePrefix: string; label: string; watchlist?: boolean },
  ) {
    const size = clampPageSize(query.pageSize, 50);
    const filter: Record<string, unknown> = {
      tenantId: actor.tenantId,
      ...afterCursor("createdAt", query.pageToken),
    };
    // An anchored, case-sensitive regex on the lower-cased name is a prefix match MongoDB can run on
    // an index; FerretDB 1.24 supports $regex too.
    if (query.namePrefix) filter.nameKey = { $regex: `^${escapeRegex(query.namePrefix.toLowerCase())}` };
    if (query.label) filter.labels = query.label;
    if (query.watchlist !== undefined) filter.watchlist = query.watchlist;
    const rows = await this.#people
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(size + 1)
      .lean<PersonDoc[]>();
    const page = toPage(rows, size, (r) => r.createdAt);
    return { people: page.rows.map(toPerson), nextPageToken: page.nextPageToken };
  }

  async get(actor: Actor, id: string): Promise<Person> {
    return toPerson(await this.find(actor.tenantId, id));
  }

  find(tenantId: string, id: string): Promise<PersonDoc> {
    return findPerson(this.#people, tenantId, id);
  }

  async update(actor: Actor, id: string, changes: PersonChanges): Promise<Person> {
    const before = await this.find(actor.tenantId, id);
    const set: Partial<PersonDoc> = {};
    const diff: FieldChange[] = [];
    const change = <K extends keyof PersonChanges & keyof PersonDoc>(field: K, value: PersonDoc[K]) => {
      const old = before[field];
      if (JSON.stringify(old) === JSON.stringify(value)) return;
      set[field] = value;
      const show = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v ?? ""));
      diff.push({ field, oldValue: show(old), newValue: show(value) });
    };
    if (changes.displayName !== undefined) {
      change("displayName", displayNameOf(changes.displayName));
      if (set.displayName) set.nameKey = set.displayName.toLowerCase();
    }
    if (changes.externalId !== undefined) {
      change("externalId", externalIdOf(changes.externalId));
      if (set.externalId !== undefined) set.externalIdKey = externalIdKey(set.externalId, id);
    }
    if (changes.notes !== undefined) change("notes", notesOf(changes.notes));
    if (changes.labels !== undefined) change("labels", labelsOf(changes.labels));
    if (changes.watchlist !== undefined) change("watchlist", changes.watchlist);
    if (diff.length === 0) return toPerson(before);

    set.updatedAt = new Date();
    const after = await this.#people
      .findOneAndUpdate({ _id: id, tenantId: actor.tenantId }, { $set: set }, { returnDocument: "after" })
      .lean<PersonDoc>()
      .catch((err: unknown) => externalIdTaken(err, set.externalId ?? ""));
    if (!after) throw notFound(`person ${id} not found`);
    await this.#audit.record(actor, "person.updated", { type: "person", id }, diff);
    return toPerson(after);
  }

  /**
   * Deletes the person with every face, crop and embedding, and erases them from ingest's
   * observations (unmatched, or with `purgeSightings` deleted): that erasure is recorded first and
   * attempted at once; when ingest cannot confirm it now, it is retried until it does.
   */
  async remove(
    actor: Actor,
    id: string,
    purgeSightings: boolean,
  ): Promise<{ deletedFaces: number; observationsErased: boolean }> {
    const person = await this.find(actor.tenantId, id);
    await this.#erasures.request(actor, id, purgeSightings);
    // Faces first: a failure half-way leaves a person with fewer faces, never faces without a person.
    // Their removal reaches ingest's gallery at once, so nothing is matched to them from now on.
    const deletedFaces = await this.#faces.removeAllOf(actor.tenantId, id);
    await this.#people.deleteOne({ _id: id, tenantId: actor.tenantId });
    await this.#audit.record(actor, "person.deleted", { type: "person", id }, [
      { field: "displayName", oldValue: person.displayName, newValue: "" },
      { field: "faces", oldValue: String(deletedFaces), newValue: "0" },
      ...(purgeSightings ? [{ field: "purgeSightings", oldValue: "", newValue: "true" }] : []),
    ]);
    return { deletedFaces, observationsErased: await this.#erasures.attemptNow(id) };
  }
}

/** The person of `tenantId`, or NOT_FOUND (also for other tenants' people). */
export async function findPerson(
  people: PeopleModels["people"],
  tenantId: string,
  id: string,
): Promise<PersonDoc> {
  const doc = await people.findOne({ _id: id, tenantId }).lean<PersonDoc>();
  if (!doc) throw notFound(`person ${id} not found`);
  return doc;
}

/** People by id; ids of other tenants or of deleted people are left out. */
export async function findPeople(
  people: PeopleModels["people"],
  tenantId: string,
  ids: string[],
): Promise<Map<string, Person>> {
  if (ids.length === 0) return new Map();
  const rows = await people.find({ tenantId, _id: { $in: ids } }).lean<PersonDoc[]>();
  return new Map(rows.map((r) => [r._id, toPerson(r)]));
}

export function toPerson(doc: PersonDoc): Person {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    displayName: doc.displayName,
    externalId: doc.externalId ?? "",
    notes: doc.notes ?? "",
    labels: doc.labels ?? [],
    watchlist: doc.watchlist ?? false,
    faceCount: doc.faceCount ?? 0,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    createdBy: doc.createdBy,
  };
}
