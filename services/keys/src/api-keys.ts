/** API key lifecycle and verification. Tenant scoping comes from the actor, never from the request body. */
import type { Actor } from "@facerec/proto/facerec/audit/v1/audit.ts";
import { type ApiKey, VerifyFailure } from "@facerec/proto/facerec/keys/v1/keys.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { invalidArgument, notFound } from "@facerec/shared/errors.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import type { RoleName } from "@facerec/shared/tokens/claims.ts";
import type { AuditLog } from "./audit-log.ts";
import { generateKey, hashesEqual, hashKey, KEY_ID_PATTERN, parseKey } from "./key-format.ts";
import type { ApiKeyDoc, KeysModels } from "./models.ts";
import type { RevocationHub } from "./revocation-hub.ts";

/** `lastUsedAt` is written at most this often per key, so a busy key is not a write per request. */
const LAST_USED_RESOLUTION_MS = 30_000;
const NAME_MAX = 100;
/**
 * Verified active keys are kept in memory this long, so a busy worker's exchanges skip the database.
 * Safe for revocation: every deactivation, deletion and expiry on any replica reaches this replica's
 * revocation hub (at once locally, within one poll interval otherwise) and evicts the entry, and
 * expiry is re-checked against the cached expiresAt on every use.
 */
const VERIFIED_CACHE_MS = 10_000;
const VERIFIED_CACHE_MAX = 10_000;

export interface KeyChanges {
  name?: string | undefined;
  active?: boolean | undefined;
  /** A Date sets the expiration; null clears it; undefined leaves it alone. */
  expiresAt?: Date | null | undefined;
}

export type VerifyResult = { failure: VerifyFailure; apiKey: ApiKey | undefined };

export class ApiKeys {
  readonly #keys: KeysModels["apiKeys"];
  readonly #audit: AuditLog;
  readonly #revocations: RevocationHub;
  readonly #pepper: Buffer;
  readonly #log: Logger;
  readonly #verified = new Map<string, { doc: ApiKeyDoc; until: number }>();

  constructor(opts: {
    models: KeysModels;
    audit: AuditLog;
    revocations: RevocationHub;
    pepper: Buffer;
    log: Logger;
  }) {
    this.#keys = opts.models.apiKeys;
    this.#audit = opts.audit;
    this.#revocations = opts.revocations;
    this.#pepper = opts.pepper;
    this.#log = opts.log;
    this.#revocations.subscribe((revocations) => {
      for (const r of revocations) this.#verified.delete(r.keyId);
    });
  }

  async create(actor: Actor, input: { name: string; role: RoleName; expiresAt?: Date | undefined }) {
    const name = validName(input.name);
    if (input.expiresAt) assertFuture(input.expiresAt);
    const key = generateKey();
    const doc = await this.#keys.create({
      _id: key.id,
      tenantId: actor.tenantId,
      name,
      role: input.role,
      hash: hashKey(key.plaintext, this.#pepper),
      prefix: key.displayPrefix,
      active: true,
      expiresAt: input.expiresAt ?? null,
      lastUsedAt: null,
      createdAt: new Date(),
      createdBy: actor.displayName || actor.actorId,
      createdById: actor.actorId,
    });
    await this.#audit.record({
      tenantId: actor.tenantId,
      action: "api_key.created",
      actor,
      targetType: "api_key",
      targetId: key.id,
      changes: [
        { field: "name", oldValue: "", newValue: name },
        { field: "role", oldValue: "", newValue: input.role },
        ...(input.expiresAt
          ? [{ field: "expiresAt", oldValue: "", newValue: input.expiresAt.toISOString() }]
          : []),
      ],
    });
    return { apiKey: toApiKey(doc.toObject() as ApiKeyDoc), key: key.plaintext };
  }

  async list(actor: Actor, requestedSize: number, pageToken: string) {
    const size = clampPageSize(requestedSize, 100);
    const rows = await this.#keys
      .find({ tenantId: actor.tenantId, ...afterCursor("createdAt", pageToken) }, { hash: 0 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(size + 1)
      .lean<ApiKeyDoc[]>();
    const page = toPage(rows, size, (r) => r.createdAt);
    return { apiKeys: page.rows.map(toApiKey), nextPageToken: page.nextPageToken };
  }

  async get(actor: Actor, id: string): Promise<ApiKey> {
    return toApiKey(await this.#find(actor, id));
  }

  async update(actor: Actor, id: string, changes: KeyChanges): Promise<ApiKey> {
    const before = await this.#find(actor, id);
    const set: Partial<ApiKeyDoc> = {};
    const diff: { field: string; oldValue: string; newValue: string }[] = [];
    if (changes.name !== undefined && validName(changes.name) !== before.name) {
      set.name = validName(changes.name);
      diff.push({ field: "name", oldValue: before.name, newValue: set.name });
    }
    if (changes.active !== undefined && changes.active !== before.active) {
      set.active = changes.active;
      diff.push({ field: "active", oldValue: String(before.active), newValue: String(changes.active) });
    }
    if (changes.expiresAt !== undefined && changes.expiresAt?.getTime() !== before.expiresAt?.getTime()) {
      if (changes.expiresAt) assertFuture(changes.expiresAt);
      set.expiresAt = changes.expiresAt;
      diff.push({ field: "expiresAt", oldValue: iso(before.expiresAt), newValue: iso(changes.expiresAt) });
    }
    if (diff.length === 0) return toApiKey(before);

    // No projection here: FerretDB does not support one on findAndModify; toApiKey drops the hash anyway.
    const after = await this.#keys
      .findOneAndUpdate({ _id: id, tenantId: actor.tenantId }, { $set: set }, { returnDocument: "after" })
      .lean<ApiKeyDoc>();
    if (!after) throw notFound(`API key ${id} not found`);
    this.#verified.delete(id);
    // Revoke before answering: when the caller sees success, every service refuses the key within the poll interval.
    if (set.active === false) await this.#revocations.revoke(after, "deactivated");
    const action =
      set.active === false
        ? "api_key.deactivated"
        : set.active === true
          ? "api_key.activated"
          : "api_key.updated";
    await this.#audit.record({
      tenantId: actor.tenantId,
      action,
      actor,
      targetType: "api_key",
      targetId: id,
      changes: diff,
    });
    return toApiKey(after);
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const doc = await this.#find(actor, id);
    await this.#keys.deleteOne({ _id: id, tenantId: actor.tenantId });
    this.#verified.delete(id);
    await this.#revocations.revoke(doc, "deleted");
    await this.#audit.record({
      tenantId: actor.tenantId,
      action: "api_key.deleted",
      actor,
      targetType: "api_key",
      targetId: id,
      changes: [{ field: "name", oldValue: doc.name, newValue: "" }],
    });
  }

  /**
   * The hot path of every token exchange: checksum (no I/O), one primary-key read, a constant-time
   * HMAC comparison, then the state checks in the documented order.
   */
  async verify(plaintext: string, tenantId: string): Promise<VerifyResult> {
    const id = parseKey(plaintext);
    if (!id) return { failure: VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY, apiKey: undefined };
    const doc = await this.#lookup(id);
    if (!doc || !hashesEqual(bytesOf(doc.hash), hashKey(plaintext, this.#pepper))) {
      return { failure: VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY, apiKey: undefined };
    }
    if (!doc.active) return { failure: VerifyFailure.VERIFY_FAILURE_KEY_INACTIVE, apiKey: undefined };
    if (doc.expiresAt && doc.expiresAt.getTime() <= Date.now())
      return { failure: VerifyFailure.VERIFY_FAILURE_KEY_EXPIRED, apiKey: undefined };
    if (doc.tenantId !== tenantId)
      return { failure: VerifyFailure.VERIFY_FAILURE_TENANT_MISMATCH, apiKey: undefined };
    this.#touch(doc);
    return { failure: VerifyFailure.VERIFY_FAILURE_UNSPECIFIED, apiKey: toApiKey(doc) };
  }

  async #lookup(id: string): Promise<ApiKeyDoc | null> {
    const cached = this.#verified.get(id);
    if (cached && cached.until > Date.now()) return cached.doc;
    const doc = await this.#keys.findById(id).lean<ApiKeyDoc>();
    if (doc?.active) {
      if (this.#verified.size >= VERIFIED_CACHE_MAX)
        this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(id, { doc, until: Date.now() + VERIFIED_CACHE_MS });
    } else {
      this.#verified.delete(id);
    }
    return doc;
  }

  /**
   * Notes that an ingest stream is using one of the key's tokens (RecordKeyUse): when, by which
   * worker, from where. A key of another tenant, or an unknown key, is left alone.
   */
  async recordStreamUse(use: {
    keyId: string;
    tenantId: string;
    workerId: string;
    remoteAddress: string;
  }): Promise<void> {
    if (use.workerId.length > 64 || use.remoteAddress.length > 100)
      throw invalidArgument(
        "invalid_key_use",
        "worker_id must be at most 64 and remote_address 100 characters",
      );
    if (!KEY_ID_PATTERN.test(use.keyId)) return;
    // Unconditional (ingest already sends at most one call per key every 30 s): the worker and
    // address must change even when a token exchange set lastUsedAt a moment ago.
    await this.#keys.updateOne(
      { _id: use.keyId, tenantId: use.tenantId },
      {
        $set: { lastWorkerId: use.workerId, lastRemoteAddress: use.remoteAddress },
        $max: { lastUsedAt: new Date() },
      },
    );
  }

  /** Records use without delaying the caller; skipped when the stored value is recent enough. */
  #touch(doc: ApiKeyDoc): void {
    const now = Date.now();
    if (doc.lastUsedAt && now - doc.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    doc.lastUsedAt = new Date(now);
    // Conditional, so replicas racing each other write at most every 30 s.
    this.#keys
      .updateOne(
        {
          _id: doc._id,
          $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: new Date(now - LAST_USED_RESOLUTION_MS) } }],
        },
        { $set: { lastUsedAt: new Date(now) } },
      )
      .catch((err: unknown) => this.#log.warn({ err, keyId: doc._id }, "could not record lastUsedAt"));
  }

  async #find(actor: Actor, id: string): Promise<ApiKeyDoc> {
    if (!KEY_ID_PATTERN.test(id)) throw notFound(`API key ${id} not found`);
    const doc = await this.#keys
      .findOne({ _id: id, tenantId: actor.tenantId }, { hash: 0 })
      .lean<ApiKeyDoc>();
    if (!doc) throw notFound(`API key ${id} not found`);
    return doc;
  }
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > NAME_MAX) {
    throw invalidArgument("invalid_name", `name must be 1 to ${NAME_MAX} characters`);
  }
  return trimmed;
}

function assertFuture(at: Date): void {
  if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
    throw invalidArgument("expiration_in_past", "expiresAt must be in the future");
  }
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? "";

export function toApiKey(doc: ApiKeyDoc): ApiKey {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    name: doc.name,
    role: roleToProto(doc.role),
    prefix: doc.prefix,
    active: doc.active,
    expiresAt: doc.expiresAt ?? undefined,
    lastUsedAt: doc.lastUsedAt ?? undefined,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    lastWorkerId: doc.lastWorkerId ?? "",
    lastRemoteAddress: doc.lastRemoteAddress ?? "",
  };
}
