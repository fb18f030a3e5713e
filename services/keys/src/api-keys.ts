/** API key lifecycle and verification. Tenant scoping comes from the actor, never from the request body. */
import { createHash } from "node:crypto";
import { type Actor, ActorType } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { type ApiKey, VerifyFailure } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import { isDuplicateKey } from "@facerec/shared/db/duplicate-key.ts";
import { afterCursor, clampPageSize, toPage } from "@facerec/shared/db/pagination.ts";
import { AppError, invalidArgument, notForApiKeys, notFound } from "@facerec/shared/errors.ts";
import { keyRefusalCode } from "@facerec/shared/failure-codes.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import type { RoleName } from "@facerec/shared/tokens/claims.ts";
import { status } from "@grpc/grpc-js";
import type { AuditLog } from "./audit-log.ts";
import { CreationReplays } from "./creation-replays.ts";
import {
  type GeneratedKey,
  generateKey,
  hashesEqual,
  hashKey,
  KEY_ID_PATTERN,
  parseKey,
} from "./key-format.ts";
import {
  addressAllowed,
  type KeyLimitLists,
  validCidrs,
  validSiteIds,
  validWorkerIds,
} from "./key-limits.ts";
import { type KeyUsage, MAX_USAGE_DAYS } from "./key-usage.ts";
import type { ApiKeyDoc, KeysModels } from "./models.ts";
import { type RevocationHub, rotationRevocationId } from "./revocation-hub.ts";

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
/** Keys this close to expiring get one `api_key.expiring` audit event (the webhooks' source). */
const EXPIRY_NOTICE_MS = 7 * 24 * 60 * 60 * 1000;
/** The actor of what the keys service does by itself. */
const SYSTEM_ACTOR = {
  actorId: "keys-service",
  actorType: ActorType.ACTOR_TYPE_SYSTEM,
  displayName: "keys service",
  remoteAddress: "",
  userAgent: "",
};

/** The longest a rotated key's previous secret may keep working. */
export const MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 60 * 60;

export interface KeyChanges {
  name?: string | undefined;
  active?: boolean | undefined;
  /** A Date sets the expiration; null clears it; undefined leaves it alone. */
  expiresAt?: Date | null | undefined;
  /** A list replaces that limit (empty lifts it); undefined leaves it alone. */
  allowedSiteIds?: string[] | undefined;
  allowedWorkerIds?: string[] | undefined;
  allowedCidrs?: string[] | undefined;
}

export type VerifyResult = {
  failure: VerifyFailure;
  apiKey: ApiKey | undefined;
  /** Set when the previous secret of a rotation was presented: when it stops working. */
  secretExpiresAt: Date | undefined;
  /** A token must be issued in a later second than this (see VerifyApiKeyResponse.issue_after). */
  issueAfter: Date | undefined;
};

const refused = (failure: VerifyFailure): VerifyResult => ({
  failure,
  apiKey: undefined,
  secretExpiresAt: undefined,
  issueAfter: undefined,
});

/** What a new key is, validated. */
interface NewKey {
  name: string;
  role: RoleName;
  expiresAt: Date | null;
  limits: KeyLimitLists;
}

export class ApiKeys {
  readonly #keys: KeysModels["apiKeys"];
  readonly #audit: AuditLog;
  readonly #revocations: RevocationHub;
  readonly #pepper: Buffer;
  readonly #log: Logger;
  readonly #usage: KeyUsage;
  readonly #verified = new Map<string, { doc: ApiKeyDoc; until: number }>();
  readonly #replays: CreationReplays;

  constructor(opts: {
    models: KeysModels;
    audit: AuditLog;
    revocations: RevocationHub;
    pepper: Buffer;
    log: Logger;
    usage: KeyUsage;
  }) {
    this.#usage = opts.usage;
    this.#keys = opts.models.apiKeys;
    this.#audit = opts.audit;
    this.#revocations = opts.revocations;
    this.#pepper = opts.pepper;
    this.#replays = new CreationReplays(opts.models, opts.pepper);
    this.#log = opts.log;
    this.#revocations.subscribe((revocations) => {
      for (const r of revocations) this.#verified.delete(r.keyId);
    });
  }

  /**
   * Creates a key and returns it with its plaintext. With an `idempotencyKey`, a repeat of the
   * same request by the same actor within 24 hours answers the first call's key and plaintext again
   * (`replayed`), creating nothing (see creation-replays.ts).
   */
  async create(
    actor: Actor,
    input: { name: string; role: RoleName; expiresAt?: Date | undefined; limits?: Partial<KeyLimitLists> },
    idempotencyKey = "",
  ): Promise<{ apiKey: ApiKey; key: string; replayed: boolean }> {
    const name = validName(input.name);
    assertMayManage(actor, input.role);
    if (input.expiresAt) assertFuture(input.expiresAt);
    const key: NewKey = {
      name,
      role: input.role,
      expiresAt: input.expiresAt ?? null,
      limits: {
        allowedSiteIds: validSiteIds(input.limits?.allowedSiteIds ?? []),
        allowedWorkerIds: validWorkerIds(input.limits?.allowedWorkerIds ?? []),
        allowedCidrs: validCidrs(input.limits?.allowedCidrs ?? []),
      },
    };
    if (!idempotencyKey) return { ...(await this.#insert(actor, key, generateKey())), replayed: false };
    const fingerprint = createHash("sha256").update(JSON.stringify(key)).digest("base64url");
    const claim = await this.#replays.claim(actor, idempotencyKey, fingerprint, generateKey());
    if (claim.replay) {
      await this.#audit.record({
        tenantId: actor.tenantId,
        action: "api_key.creation_replayed",
        actor,
        targetType: "api_key",
        targetId: claim.replay.apiKey.id,
      });
      return { ...claim.replay, replayed: true };
    }
    const created = await this.#insert(actor, key, claim.key);
    await this.#replays.complete(claim.id, created.apiKey);
    return { ...created, replayed: false };
  }

  /**
   * Stores a new key and audits it. A key whose id exists already was stored by an idempotent
   * creation's first call, which died before answering: that key is the answer.
   */
  async #insert(actor: Actor, input: NewKey, key: GeneratedKey): Promise<{ apiKey: ApiKey; key: string }> {
    let doc: ApiKeyDoc;
    try {
      doc = (
        await this.#keys.create({
          _id: key.id,
          tenantId: actor.tenantId,
          name: input.name,
          role: input.role,
          hash: hashKey(key.plaintext, this.#pepper),
          prefix: key.displayPrefix,
          active: true,
          expiresAt: input.expiresAt,
          lastUsedAt: null,
          createdAt: new Date(),
          createdBy: actor.displayName || actor.actorId,
          createdById: actor.actorId,
          ...input.limits,
        })
      ).toObject() as ApiKeyDoc;
    } catch (err) {
      const stored = isDuplicateKey(err)
        ? await this.#keys.findOne({ _id: key.id, tenantId: actor.tenantId }).lean<ApiKeyDoc>()
        : null;
      if (!stored) throw err;
      return { apiKey: toApiKey(stored), key: key.plaintext };
    }
    await this.#audit.record({
      tenantId: actor.tenantId,
      action: "api_key.created",
      actor,
      targetType: "api_key",
      targetId: key.id,
      changes: [
        { field: "name", oldValue: "", newValue: input.name },
        { field: "role", oldValue: "", newValue: input.role },
        ...(input.expiresAt
          ? [{ field: "expiresAt", oldValue: "", newValue: input.expiresAt.toISOString() }]
          : []),
        ...limitChanges(EMPTY_LIMITS, input.limits),
      ],
    });
    return { apiKey: toApiKey(doc), key: key.plaintext };
  }

  /** Forgets Idempotency-Keys older than 24 hours, with the secrets kept for their replays. */
  sweepCreationReplays(): Promise<number> {
    return this.#replays.sweep();
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
    assertMayManage(actor, before.role);
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
    const limits: KeyLimitLists = {
      allowedSiteIds: changes.allowedSiteIds
        ? validSiteIds(changes.allowedSiteIds)
        : (before.allowedSiteIds ?? []),
      allowedWorkerIds: changes.allowedWorkerIds
        ? validWorkerIds(changes.allowedWorkerIds)
        : (before.allowedWorkerIds ?? []),
      allowedCidrs: changes.allowedCidrs ? validCidrs(changes.allowedCidrs) : (before.allowedCidrs ?? []),
    };
    const limitDiff = limitChanges(before, limits);
    for (const change of limitDiff) {
      const field = change.field as keyof KeyLimitLists;
      set[field] = limits[field];
      diff.push(change);
    }
    // Tokens carry the site and worker limits: narrowed limits must not wait for them to expire.
    const revokeTokens = set.active !== false && limitDiff.some((c) => c.field !== "allowedCidrs");
    if (revokeTokens) set.tokensRevokedAt = new Date();
    if (diff.length === 0) return toApiKey(before);

    // No projection here: FerretDB does not support one on findAndModify; toApiKey drops the hash anyway.
    const after = await this.#keys
      .findOneAndUpdate({ _id: id, tenantId: actor.tenantId }, { $set: set }, { returnDocument: "after" })
      .lean<ApiKeyDoc>();
    if (!after) throw notFound(`API key ${id} not found`);
    this.#verified.delete(id);
    // Revoke before answering: when the caller sees success, every service refuses the key within the poll interval.
    if (set.active === false) await this.#revocations.revoke(after, "deactivated");
    else if (revokeTokens)
      await this.#revocations.revoke(after, "limits_changed", undefined, set.tokensRevokedAt!);
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
    assertMayManage(actor, doc.role);
    await this.#keys.deleteOne({ _id: id, tenantId: actor.tenantId });
    this.#verified.delete(id);
    await this.#usage.forget(id);
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
   * Gives the key a new secret; the current one keeps working for `graceSeconds` (0: stops now).
   * Refused while an earlier rotation's grace period runs: a key has at most two secrets.
   */
  async rotate(actor: Actor, id: string, graceSeconds: number) {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_PERIOD_SECONDS)
      throw invalidArgument(
        "invalid_grace_period",
        `grace_period_seconds must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS} (7 days)`,
      );
    const before = await this.#find(actor, id);
    assertMayManage(actor, before.role);
    const now = new Date();
    if (before.previousSecretExpiresAt && before.previousSecretExpiresAt > now)
      throw new AppError(
        status.FAILED_PRECONDITION,
        "rotation_in_progress",
        `the key's previous secret works until ${before.previousSecretExpiresAt.toISOString()}; rotate again after that, or deactivate the key`,
      );
    const current = await this.#keys.findById(id, { hash: 1 }).lean<Pick<ApiKeyDoc, "hash">>();
    if (!current) throw notFound(`API key ${id} not found`);
    const key = generateKey(id);
    const previousSecretExpiresAt = graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null;
    // Audited first, under an id derived from the rotation it follows: of two racing rotations only
    // one can record it (a unique _id is atomic on FerretDB; a conditional update is not).
    await this.#audit
      .record(
        {
          tenantId: actor.tenantId,
          action: "api_key.rotated",
          actor,
          targetType: "api_key",
          targetId: id,
          changes: [
            { field: "rotatedAt", oldValue: iso(before.rotatedAt), newValue: now.toISOString() },
            { field: "previousSecretExpiresAt", oldValue: "", newValue: iso(previousSecretExpiresAt ?? now) },
          ],
        },
        `rotated:${id}:${before.rotatedAt?.getTime() ?? 0}`,
      )
      .catch((err: { code?: number }) => {
        if (isDuplicateKey(err))
          throw new AppError(
            status.ABORTED,
            "concurrent_rotation",
            "the key was rotated meanwhile; reload it",
          );
        throw err;
      });
    const after = await this.#keys
      .findOneAndUpdate(
        { _id: id, tenantId: actor.tenantId, rotatedAt: before.rotatedAt ?? null },
        {
          $set: {
            hash: hashKey(key.plaintext, this.#pepper),
            previousHash: previousSecretExpiresAt ? bytesOf(current.hash) : null,
            previousSecretExpiresAt,
            rotatedAt: now,
            tokensRevokedAt: now,
          },
        },
        { returnDocument: "after" },
      )
      .lean<ApiKeyDoc>();
    if (!after)
      throw new AppError(status.ABORTED, "concurrent_rotation", "the key was rotated meanwhile; reload it");
    this.#verified.delete(id);
    // Without a grace period the old secret's tokens end now; otherwise the sweep ends them when it runs out.
    if (!previousSecretExpiresAt)
      await this.#revocations.revoke(after, "rotated", rotationRevocationId(id, now), now);
    return { apiKey: toApiKey(after), key: key.plaintext };
  }

  /**
   * The hot path of every token exchange: checksum (no I/O), one primary-key read, a constant-time
   * HMAC comparison, then the state checks in the documented order.
   */
  async verify(plaintext: string, tenantId: string, remoteAddress = ""): Promise<VerifyResult> {
    const id = parseKey(plaintext);
    if (!id) return refused(VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY);
    const presented = hashKey(plaintext, this.#pepper);
    const now = Date.now();
    let doc = await this.#lookup(id);
    let secret = doc && matchSecret(doc, presented, now);
    // A wrong secret is always checked against the stored key: a cached copy may predate a rotation
    // made on another replica (the new secret must work at once), and a known id then costs the
    // same database read as an unknown one, so timing does not tell which ids exist.
    if (doc && !secret && this.#verified.has(id)) {
      this.#verified.delete(id);
      doc = await this.#lookup(id);
      secret = doc && matchSecret(doc, presented, now);
    }
    if (!doc) return refused(VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY);
    const failure = firstFailure(doc, secret ?? undefined, { tenantId, remoteAddress, now });
    if (failure !== VerifyFailure.VERIFY_FAILURE_UNSPECIFIED) {
      // Counted on the key's own tenant: its admins see who is knocking with it.
      this.#usage.refused(doc._id, doc.tenantId, keyRefusalCode(failure)!);
      return refused(failure);
    }
    this.#usage.exchanged(doc._id, doc.tenantId);
    this.#touch(doc);
    return {
      failure: VerifyFailure.VERIFY_FAILURE_UNSPECIFIED,
      apiKey: toApiKey(doc),
      secretExpiresAt: secret === "previous" ? (doc.previousSecretExpiresAt ?? undefined) : undefined,
      issueAfter: doc.tokensRevokedAt ?? undefined,
    };
  }

  /**
   * Records `api_key.expiring` once for each active key whose expiration is within 7 days (again if
   * the expiration is changed), for the dashboard's audit log and, when webhooks exist, their
   * `api_key.expiring` deliveries. The event's id is derived from the key and its expiration, so
   * replicas racing each other record it once (a unique _id is atomic on FerretDB too; a
   * conditional update is not).
   */
  async announceExpiring(): Promise<number> {
    const now = Date.now();
    const soon = await this.#keys
      .find(
        { active: true, expiresAt: { $gt: new Date(now), $lte: new Date(now + EXPIRY_NOTICE_MS) } },
        { _id: 1, tenantId: 1, name: 1, expiresAt: 1, expiryAnnouncedFor: 1 },
      )
      .lean<Pick<ApiKeyDoc, "_id" | "tenantId" | "name" | "expiresAt" | "expiryAnnouncedFor">[]>();
    let announced = 0;
    for (const key of soon) {
      if (key.expiryAnnouncedFor?.getTime() === key.expiresAt!.getTime()) continue;
      const recorded = await this.#audit
        .record(
          {
            tenantId: key.tenantId,
            action: "api_key.expiring",
            actor: { ...SYSTEM_ACTOR, tenantId: key.tenantId },
            targetType: "api_key",
            targetId: key._id,
            changes: [{ field: "expiresAt", oldValue: "", newValue: key.expiresAt!.toISOString() }],
          },
          `expiring:${key._id}:${key.expiresAt!.getTime()}`,
        )
        .then(
          () => true,
          (err: { code?: number }) => {
            if (!isDuplicateKey(err)) throw err;
            return false; // another replica recorded it
          },
        );
      // Remembered on the key so the next sweeps skip it without trying again.
      await this.#keys.updateOne({ _id: key._id }, { $set: { expiryAnnouncedFor: key.expiresAt } });
      if (recorded) announced += 1;
    }
    return announced;
  }

  /** The key's use per UTC day, `days` ending today (1..90; 0 means 30). */
  async usage(actor: Actor, id: string, days: number) {
    if (!Number.isInteger(days) || days < 0 || days > MAX_USAGE_DAYS)
      throw invalidArgument("invalid_days", `days must be 1 to ${MAX_USAGE_DAYS}`);
    const doc = await this.#find(actor, id);
    return { days: await this.#usage.days(doc._id, doc.tenantId, days || 30) };
  }

  async #lookup(id: string): Promise<ApiKeyDoc | null> {
    const now = Date.now();
    const cached = this.#verified.get(id);
    if (cached && cached.until > now) return cached.doc;
    const doc = await this.#keys.findById(id).lean<ApiKeyDoc>();
    if (doc?.active) {
      remember(this.#verified, VERIFIED_CACHE_MAX, id, { doc, until: now + VERIFIED_CACHE_MS });
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
    observations: number;
  }): Promise<void> {
    if (use.workerId.length > 64 || use.remoteAddress.length > 100)
      throw invalidArgument(
        "invalid_key_use",
        "worker_id must be at most 64 and remote_address 100 characters",
      );
    if (!KEY_ID_PATTERN.test(use.keyId)) return;
    if (!Number.isSafeInteger(use.observations) || use.observations < 0)
      throw invalidArgument("invalid_key_use", "observations must be a non-negative integer");
    this.#usage.streamed(use.keyId, use.tenantId, use.observations);
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

/**
 * API keys (machines) manage worker and viewer keys only: an admin key that could create, rotate or
 * change admin keys would let one leaked key keep admin access after it is revoked. Its actions are
 * audited with the key as actor, so what a key created is traceable to it.
 */
function assertMayManage(actor: Actor, role: string): void {
  if (actor.actorType === ActorType.ACTOR_TYPE_API_KEY && role === "admin")
    throw notForApiKeys("API keys may not create, change, rotate or delete admin keys; sign in as an admin");
}

/** Sets a bounded cache entry, dropping the oldest when full. */
function remember<V>(cache: Map<string, V>, max: number, id: string, value: V): void {
  if (cache.size >= max && !cache.has(id)) cache.delete(cache.keys().next().value!);
  cache.set(id, value);
}

/** The first check a known key fails, in the documented order; UNSPECIFIED when it passes them all. */
function firstFailure(
  doc: ApiKeyDoc,
  secret: "current" | "previous" | undefined,
  presenter: { tenantId: string; remoteAddress: string; now: number },
): VerifyFailure {
  if (!secret) return VerifyFailure.VERIFY_FAILURE_INVALID_API_KEY;
  if (!doc.active) return VerifyFailure.VERIFY_FAILURE_KEY_INACTIVE;
  if (doc.expiresAt && doc.expiresAt.getTime() <= presenter.now)
    return VerifyFailure.VERIFY_FAILURE_KEY_EXPIRED;
  if (doc.tenantId !== presenter.tenantId) return VerifyFailure.VERIFY_FAILURE_TENANT_MISMATCH;
  if (!addressAllowed(doc.allowedCidrs ?? [], presenter.remoteAddress))
    return VerifyFailure.VERIFY_FAILURE_IP_NOT_ALLOWED;
  return VerifyFailure.VERIFY_FAILURE_UNSPECIFIED;
}

/** Which of the key's secrets `presented` (its HMAC) is; both are compared, so either takes the same work. */
function matchSecret(doc: ApiKeyDoc, presented: Buffer, now: number): "current" | "previous" | undefined {
  const current = hashesEqual(bytesOf(doc.hash), presented);
  const previous =
    doc.previousHash && doc.previousSecretExpiresAt && doc.previousSecretExpiresAt.getTime() > now
      ? hashesEqual(bytesOf(doc.previousHash), presented)
      : false;
  return current ? "current" : previous ? "previous" : undefined;
}

const EMPTY_LIMITS: KeyLimitLists = { allowedSiteIds: [], allowedWorkerIds: [], allowedCidrs: [] };

/** Audit entries for the limits that differ, as comma-separated lists. */
function limitChanges(before: Partial<KeyLimitLists>, after: KeyLimitLists) {
  return (["allowedSiteIds", "allowedWorkerIds", "allowedCidrs"] as const)
    .map((field) => ({ field, oldValue: (before[field] ?? []).join(","), newValue: after[field].join(",") }))
    .filter((c) => c.oldValue !== c.newValue);
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
    rotatedAt: doc.rotatedAt ?? undefined,
    previousSecretExpiresAt:
      doc.previousSecretExpiresAt && doc.previousSecretExpiresAt.getTime() > Date.now()
        ? doc.previousSecretExpiresAt
        : undefined,
    allowedSiteIds: doc.allowedSiteIds ?? [],
    allowedWorkerIds: doc.allowedWorkerIds ?? [],
    allowedCidrs: doc.allowedCidrs ?? [],
  };
}
