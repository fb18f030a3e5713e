/**
 * A tenant's match thresholds (per embedding model), over the defaults measured by
 * `npm run eval:recognition`. Stored here because this service owns the gallery they apply to; ingest
 * receives them with the gallery (WatchGallery). Every change is audited.
 */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { RecognitionSettings as SettingsProto } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";
import { DEFAULT_THRESHOLDS, MAX_THRESHOLD, MIN_THRESHOLD } from "@facerec/shared/recognition/thresholds.ts";
import type { AuditTrail } from "./audit-trail.ts";
import type { GalleryReplica } from "./gallery-replica.ts";
import type { PeopleModels, RecognitionSettingsDoc } from "./models.ts";

/** Model ids look like `vendor/name` ([A-Za-z0-9._/-]); a tenant sets at most this many. */
const MODEL_ID = /^[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9._-]{1,64}$/;
const MAX_MODELS = 32;

export class RecognitionSettings {
  readonly #models: PeopleModels;
  readonly #replica: GalleryReplica;
  readonly #audit: AuditTrail;

  constructor(opts: { models: PeopleModels; replica: GalleryReplica; audit: AuditTrail }) {
    this.#models = opts.models;
    this.#replica = opts.replica;
    this.#audit = opts.audit;
  }

  async get(actor: Actor): Promise<SettingsProto> {
    const row = await this.#models.recognitionSettings
      .findById(actor.tenantId)
      .lean<RecognitionSettingsDoc>();
    return { thresholds: { ...(row?.thresholds ?? {}) }, defaults: { ...DEFAULT_THRESHOLDS } };
  }

  /** Replaces the tenant's thresholds; an empty map returns it to the defaults. */
  async replace(actor: Actor, thresholds: Record<string, number>): Promise<SettingsProto> {
    const entries = Object.entries(thresholds);
    if (entries.length > MAX_MODELS)
      throw invalidArgument("invalid_thresholds", `at most ${MAX_MODELS} models may have a threshold`);
    for (const [model, value] of entries) {
      if (!MODEL_ID.test(model))
        throw invalidArgument("invalid_model", `${JSON.stringify(model)} is not a model id (vendor/name)`);
      if (!Number.isFinite(value) || value < MIN_THRESHOLD || value > MAX_THRESHOLD)
        throw invalidArgument(
          "invalid_threshold",
          `the threshold of ${model} must be a cosine from ${MIN_THRESHOLD} to ${MAX_THRESHOLD}`,
        );
    }
    const before = await this.get(actor);
    // Audited first: a change the audit log cannot take is not made.
    await this.#audit.record(
      actor,
      "recognition_settings.updated",
      { type: "recognition_settings", id: actor.tenantId },
      [
        {
          field: "thresholds",
          oldValue: JSON.stringify(before.thresholds),
          newValue: JSON.stringify(thresholds),
        },
      ],
    );
    await this.#models.recognitionSettings.replaceOne(
      { _id: actor.tenantId },
      { thresholds, updatedAt: new Date(), updatedBy: actor.displayName || actor.actorId },
      { upsert: true },
    );
    await this.#replica.thresholdsChanged(actor.tenantId, thresholds);
    return { thresholds: { ...thresholds }, defaults: { ...DEFAULT_THRESHOLDS } };
  }
}
