import { fileURLToPath } from "node:url";
import { DEFAULT_PORTS, parseConfig, port, serviceEnv } from "@facerec/shared/config.ts";
import { DETECTOR_TYPES } from "@facerec/worker/src/detectors/index.ts";
import {
  DEFAULT_EMBEDDER_TYPE,
  EMBEDDER_TYPES,
  type EmbedderType,
} from "@facerec/worker/src/embedders/index.ts";
import { z } from "zod";

export const peopleConfigSchema = z.object({
  ...serviceEnv,
  PEOPLE_PORT: port(DEFAULT_PORTS.people),
  PEOPLE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The keys service, which hosts the audit log. */
  KEYS_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.keys}`),
  /** Where the worker's models are (`npm run models` prepares them). */
  MODELS_DIR: z.string().default(fileURLToPath(new URL("../../../worker/models/", import.meta.url))),
  /** The detector that finds faces in enrolment and search photos (the worker's, same code). */
  DETECTOR_TYPE: z.enum(DETECTOR_TYPES).default("blazeface"),
  /**
   * Embedding models in use, comma-separated: every enrolled face gets one embedding per model. The
   * first is the one searches compare with.
   */
  EMBEDDER_TYPES: z
    .string()
    .default(DEFAULT_EMBEDDER_TYPE)
    .transform((v) => [
      ...new Set(
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(EMBEDDER_TYPES)).min(1))
    .transform((v) => v as EmbedderType[]),
  /** Faces smaller than this (the detector box's longer side, in photo pixels) are refused: `face_too_small`. */
  ENROL_MIN_FACE_PX: z.coerce.number().int().min(16).max(1000).default(60),
  /** Faces the detector is less sure of than this are refused: `face_low_quality`. */
  ENROL_MIN_DET_SCORE: z.coerce.number().min(0).max(1).default(0.75),
  /** How often each replica reads the gallery changes other replicas made, in ms. */
  GALLERY_POLL_MS: z.coerce.number().int().min(50).max(5000).default(200),
  /** Ingest's internal query API: the sightings webhooks announce (`sighting.started`). */
  INGEST_ADDR: z.string().default(`127.0.0.1:${DEFAULT_PORTS.ingest + 1}`),
  /**
   * Development only: webhooks may use http and hosts that resolve to loopback, private or
   * link-local addresses. Off, such URLs are refused (`webhook_url_not_allowed`).
   */
  WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
  /** How long one delivery attempt may take, in ms; no 2xx answer by then is a failed attempt. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Delay before the second attempt, in ms; doubled after each failure (with jitter). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  /** The longest delay between attempts, in ms. */
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(50).max(86_400_000).default(3_600_000),
  /** How long after an event its delivery is retried, in ms (24 h); then it is `failed`. */
  WEBHOOK_RETRY_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000)
    .default(86_400_000),
  /** How often each replica looks for due deliveries, in ms (new ones go out at once). */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** How often the event sources re-read sightings and the audit log under their live feeds, in ms. */
  WEBHOOK_SCAN_MS: z.coerce.number().int().min(200).max(3_600_000).default(30_000),
});

export type PeopleConfig = z.infer<typeof peopleConfigSchema>;
export const loadPeopleConfig = (env?: NodeJS.ProcessEnv) => parseConfig(peopleConfigSchema, env);
