/**
 * Every stable failure code of the platform, in one table: the `code` of a problem+json answer at
 * the REST API, the `facerec-error-code` trailer and `google.rpc.ErrorInfo.reason` of a gRPC error,
 * and `IngestAck.reason`. Services raise codes only from here (AppError and the gateway's Problem are
 * typed against it, so a code missing from the table fails `npm run typecheck`); the OpenAPI
 * `Problem.code` enum, the worker's hints and README.md's "Failure codes" section are made from it.
 *
 * It lives with the contracts because it is one: clients branch on these codes. Plain data with no
 * imports, so the worker, which ships without the services' code, uses it too.
 *
 * Adding a code: one entry, under the group it belongs to; then
 * `npx node services/shared/src/failure-codes-readme.ts --write` rewrites README.md's tables
 * (services/shared/src/failure-codes.test.ts fails while they are stale).
 */

/** HTTP statuses the REST API answers problems with. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

export interface FailureCodeEntry {
  /** The status of the problem+json answer that carries the code; absent when REST never answers with it. */
  readonly http?: ProblemStatus;
  /**
   * How the public ingest API (`IngestService.StreamFaces`) carries it: `stream` ends the stream
   * with a gRPC status carrying the code; `ack` is an `IngestAck.reason` (the stream stays open).
   */
  readonly ingest?: "stream" | "ack";
  /** What happened, for people; lower case, no final stop. */
  readonly meaning: string;
  /** What the caller does about it, for people; lower case, no final stop. */
  readonly fix: string;
}

export const FAILURE_CODES = {
  // API keys exchanged for tokens (POST /v1/auth/token): the worker guide's four 401 causes first.
  invalid_api_key: {
    http: 401,
    meaning: "the API key is not a valid key (mistyped, truncated, rotated or deleted)",
    fix: "check API key: put a valid key in WORKER_API_KEY (copy it from the dashboard, or create one)",
  },
  key_inactive: {
    http: 401,
    meaning: "the API key is deactivated",
    fix: "check key status: activate the key in the dashboard (API Keys)",
  },
  key_expired: {
    http: 401,
    meaning: "the API key's expiration has passed",
    fix: "check expiration: extend the key in the dashboard, or create a new one",
  },
  tenant_mismatch: {
    http: 401,
    meaning: "the tenant id sent is not the tenant the API key belongs to",
    fix: "check tenant ID: set TENANT_ID to the tenant the API key belongs to",
  },
  ip_not_allowed: {
    http: 401,
    meaning: "the API key is limited to address ranges and the caller's address is outside them",
    fix: "check the key's allowed addresses in the dashboard: this worker's address is outside them (behind a proxy, check the gateway's TRUST_PROXY)",
  },

  // Access tokens and sessions.
  missing_token: {
    http: 401,
    ingest: "stream",
    meaning: "the request carries no bearer token",
    fix: "send `Authorization: Bearer <token>` (from POST /v1/auth/login or /v1/auth/token)",
  },
  invalid_token: {
    http: 401,
    ingest: "stream",
    meaning:
      "the bearer token is malformed, its signature or claims do not verify, or the header is not `Bearer <token>`",
    fix: "get a new token from POST /v1/auth/token (API keys) or sign in again",
  },
  token_expired: {
    http: 401,
    ingest: "stream",
    meaning: "the bearer token has expired",
    fix: "get a new token (POST /v1/auth/token, or POST /v1/auth/refresh for a session) and retry; workers rotate streams before expiry",
  },
  token_revoked: {
    http: 401,
    ingest: "stream",
    meaning:
      "the API key the token was issued for was deactivated, deleted, expired, rotated or had its limits changed",
    fix: "exchange the key again for a new token; if that fails too, its code says why",
  },
  session_ended: {
    http: 401,
    meaning: "the sign-in session of this token was signed out",
    fix: "sign in again",
  },
  invalid_credentials: {
    http: 401,
    meaning: "the email or the password is wrong",
    fix: "check both; an admin of the tenant can reset the account",
  },
  invalid_credentials_format: {
    http: 400,
    meaning: "the sign-in request lacks an email or a password",
    fix: "send both `email` and `password`",
  },
  tenant_required: {
    http: 400,
    meaning: "this email and password open accounts in several tenants",
    fix: "send `tenantId` with the sign-in to say which",
  },
  invalid_refresh_token: {
    http: 401,
    meaning: "the refresh cookie is missing, unknown or expired",
    fix: "sign in again",
  },
  refresh_token_reused: {
    http: 401,
    meaning: "a refresh token was used twice (a copy of it may be in other hands), so its session was ended",
    fix: "sign in again; if you did not refresh twice yourself, change the password",
  },
  account_throttled: {
    http: 429,
    meaning: "too many failed sign-ins for this account or address",
    fix: "wait for the time in Retry-After, then sign in with the right password",
  },
  revocations_unavailable: {
    http: 503,
    ingest: "stream",
    meaning:
      "tokens cannot be checked: the revocation list is not synced from the keys service (fail closed)",
    fix: "retry shortly; if it lasts, check that the keys service is running",
  },

  // What the caller may do.
  forbidden: {
    http: 403,
    ingest: "stream",
    meaning: "the caller's role or tenant does not allow this (a stream needs a worker key)",
    fix: "use an account or API key with the needed role (worker to stream, admin to change things)",
  },
  not_allowed_for_api_keys: {
    http: 403,
    meaning: "API keys may not do this whatever their role (create users, create or change admin keys)",
    fix: "sign in as an admin to do it",
  },

  // Requests the gateway cannot take.
  validation_failed: {
    http: 400,
    meaning: "fields of the request break its schema; `errors` lists every one",
    fix: "correct the fields named in `errors` (the OpenAPI document at /v1/openapi.json says what each takes)",
  },
  malformed_request: {
    http: 400,
    meaning: "the body cannot be parsed (not JSON, or a broken multipart body)",
    fix: "send a well-formed body of the type in Content-Type",
  },
  bad_request: {
    http: 400,
    meaning: "the HTTP request is malformed in another way",
    fix: "check the request against the OpenAPI document",
  },
  body_too_large: {
    http: 413,
    meaning: "the request body is over the gateway's size limit",
    fix: "send a smaller body",
  },
  unsupported_media_type: {
    http: 415,
    meaning:
      "the body's Content-Type is not one the operation takes (JSON; multipart with a JPEG, PNG or WebP photo)",
    fix: "send the media type the operation documents",
  },
  method_not_allowed: {
    http: 405,
    meaning: "the path does not take this HTTP method",
    fix: "use a method from the Allow header",
  },
  not_found: {
    http: 404,
    meaning: "no such route, or no such resource in the caller's tenant",
    fix: "check the path and the id",
  },
  rate_limited: {
    http: 429,
    meaning: "too many requests from this address to a rate-limited endpoint (sign-in, token exchange)",
    fix: "wait for the seconds in Retry-After (RateLimit-Reset says when the window resets)",
  },
  invalid_page_token: {
    http: 400,
    meaning: "`pageToken` is not one this listing returned",
    fix: "pass `nextPageToken` from the previous page unchanged, with the same filters",
  },
  invalid_page_size: {
    http: 400,
    meaning: "`pageSize` is outside the listing's range",
    fix: "ask for a page size the operation documents",
  },
  missing_actor: {
    http: 400,
    meaning: "an internal call did not say who makes it (a platform bug, not the client's)",
    fix: "report it: retrying does not help",
  },
  invalid_idempotency_key: {
    http: 400,
    meaning: "the Idempotency-Key header is not 1 to 255 printable ASCII characters",
    fix: "send a unique key such as a UUID",
  },
  idempotency_key_reused: {
    http: 422,
    meaning: "this Idempotency-Key was used in the last 24 hours with a different request body",
    fix: "send a new request under a new Idempotency-Key; retry only with the same body",
  },
  idempotency_key_in_use: {
    http: 409,
    meaning: "a request with this Idempotency-Key is still being processed",
    fix: "retry after a moment; the retry gets the first request's answer",
  },

  // API keys managed by admins.
  invalid_name: {
    http: 400,
    meaning: "the name (of a key or tenant) is empty or over 100 characters",
    fix: "give a name of 1 to 100 characters",
  },
  invalid_role: {
    http: 400,
    meaning: "the role is not one this operation takes",
    fix: "use `worker`, `viewer` or `admin` for keys; `admin` or `viewer` for users",
  },
  expiration_in_past: {
    http: 400,
    meaning: "`expiresAt` is not in the future",
    fix: "give a future time, or none for a key that does not expire",
  },
  conflicting_expiration: {
    http: 400,
    meaning: "the request both sets and clears the expiration",
    fix: "send either `expiresAt` or `expiresAt: null`",
  },
  invalid_days: {
    http: 400,
    meaning: "the usage window is outside the days kept",
    fix: "ask for 1 to 90 days",
  },
  invalid_key_use: {
    http: 400,
    meaning: "a recorded key use names no key or tenant (a platform bug)",
    fix: "report it: retrying does not help",
  },
  invalid_grace_period: {
    http: 400,
    meaning: "the rotation's grace period is not a whole number of seconds from 0 to 7 days",
    fix: "give `gracePeriodSeconds` from 0 to 604800",
  },
  rotation_in_progress: {
    http: 400,
    meaning: "the key's previous secret still works after an earlier rotation",
    fix: "rotate again after the grace period ends, or deactivate the key",
  },
  concurrent_rotation: {
    http: 409,
    meaning: "the key was rotated by another request meanwhile",
    fix: "reload the key, then decide whether to rotate it again",
  },
  invalid_site_id: {
    http: 400,
    meaning: "an allowed site id breaks the ingest contract's rule, or there are over 100",
    fix: "use 1 to 64 characters of [A-Za-z0-9._-], at most 100 entries",
  },
  invalid_worker_id: {
    http: 400,
    meaning: "an allowed worker id breaks the ingest contract's rule, or there are over 100",
    fix: "use 1 to 64 characters of [A-Za-z0-9._-], at most 100 entries",
  },
  invalid_cidr: {
    http: 400,
    meaning: "an allowed address range is not an IPv4 or IPv6 CIDR, or there are over 100",
    fix: "give ranges such as 10.0.0.0/8 or 2001:db8::/32, at most 100",
  },
  invalid_session: {
    http: 400,
    meaning: "a session revocation names no valid session or tenant (a platform bug)",
    fix: "report it: retrying does not help",
  },
  invalid_event: {
    http: 400,
    meaning: "an audit event lacks its tenant or action (a platform bug)",
    fix: "report it: retrying does not help",
  },

  // Tenants and users.
  invalid_tenant_id: {
    http: 400,
    meaning: "the tenant id breaks its rule",
    fix: "use 3 to 40 lower-case letters, digits and dashes, starting and ending with a letter or digit",
  },
  tenant_exists: {
    http: 409,
    meaning: "a tenant with this id exists already",
    fix: "choose another id",
  },
  invalid_email: {
    http: 400,
    meaning: "the email address is not valid",
    fix: "give an address such as name@example.com",
  },
  weak_password: {
    http: 400,
    meaning: "the password is too short or too long",
    fix: "use 12 to 200 characters",
  },
  email_taken: {
    http: 409,
    meaning: "this tenant has a user with this email already",
    fix: "use another email, or edit the existing user",
  },

  // People, photos and recognition settings.
  invalid_display_name: {
    http: 400,
    meaning: "the person's display name is empty or too long",
    fix: "give 1 to 200 characters",
  },
  invalid_external_id: {
    http: 400,
    meaning: "the external id is over 128 characters",
    fix: "shorten it",
  },
  invalid_labels: {
    http: 400,
    meaning: "over 32 labels, or a label is empty or over 64 characters",
    fix: "give at most 32 labels of 1 to 64 characters",
  },
  invalid_notes: {
    http: 400,
    meaning: "the notes are over 2,000 characters",
    fix: "shorten them",
  },
  external_id_taken: {
    http: 409,
    meaning: "another person of the tenant has this external id",
    fix: "use another external id, or edit that person",
  },
  invalid_max_results: {
    http: 400,
    meaning: "`maxResults` of a face search is over 100",
    fix: "ask for 1 to 100 results",
  },
  invalid_model: {
    http: 400,
    meaning: "a model id of the recognition settings is not `vendor/name`",
    fix: "use a model id as events carry it, e.g. `opencv/sface`",
  },
  invalid_threshold: {
    http: 400,
    meaning: "a match threshold is not a cosine similarity within the allowed range",
    fix: "give a threshold inside the range the error names",
  },
  invalid_thresholds: {
    http: 400,
    meaning: "the recognition settings name too many models",
    fix: "set thresholds only for the models in use",
  },
  image_too_large: {
    http: 413,
    meaning: "the photo is over 10 MiB",
    fix: "send a smaller photo",
  },
  invalid_image: {
    http: 422,
    meaning: "the photo cannot be decoded",
    fix: "send an intact JPEG, PNG or WebP",
  },
  no_face_found: {
    http: 422,
    meaning: "no face was found in the photo",
    fix: "send a photo with one face clearly visible",
  },
  multiple_faces: {
    http: 422,
    meaning: "the photo has several faces; `faces` lists them",
    fix: "name one with `faceIndex` or `bbox`",
  },
  face_too_small: {
    http: 422,
    meaning: "the face is under the minimum size",
    fix: "send a photo where the face is larger",
  },
  face_low_quality: {
    http: 422,
    meaning: "the detector's confidence in the face is under the minimum",
    fix: "send a sharper, better-lit, more frontal photo",
  },
  face_not_found: {
    http: 422,
    meaning: "the `faceIndex` or `bbox` given matches no face found; `faces` lists them",
    fix: "pick one of the faces listed",
  },
  event_without_thumbnail: {
    http: 422,
    meaning:
      "the event has no thumbnail, so it cannot be enrolled (its crop is what is stored and re-embedded)",
    fix: "enrol another event of the face, one with a thumbnail (workers send them with THUMBNAILS=best or all)",
  },
  event_without_embedding: {
    http: 422,
    meaning: "the event carries no usable embedding",
    fix: "enrol another event of the face, or a photo",
  },
  track_without_thumbnails: {
    http: 422,
    meaning: "none of the track's observations has a thumbnail to enrol",
    fix: "enrol from a photo, or from a track of a worker that sends thumbnails",
  },
  invalid_track: {
    http: 400,
    meaning: "a track is named without its worker id or with track id 0",
    fix: "give `workerId` and a non-zero `trackId`, as events carry them",
  },
  invalid_search_window: {
    http: 400,
    meaning: "an event search names no time window, or one over 24 hours",
    fix: "search the events of at most the last 24 hours (`eventsWithinHours` 1 to 24)",
  },
  invalid_embedding: {
    meaning: "an event search carries no embedding of float32 values",
    fix: "send the embedding as little-endian float32 bytes",
  },
  invalid_person_id: {
    meaning: "an erasure names no person",
    fix: "name the deleted person's id",
  },
  gallery_behind: {
    meaning:
      "an ingest replica still matches against a deleted person's faces, so their observations cannot be erased yet",
    fix: "none: the people service retries the erasure until ingest's gallery feed has caught up",
  },
  models_missing: {
    http: 503,
    meaning: "the people service lacks the face models it needs",
    fix: "operators: run `npm run models` (or mount MODELS_DIR) and restart the people service",
  },

  // Webhooks.
  invalid_webhook_url: {
    http: 400,
    meaning: "the webhook URL is too long, not absolute, not http(s), or carries credentials",
    fix: "give an absolute https URL without user or password (verify deliveries by their signature)",
  },
  webhook_url_not_allowed: {
    http: 422,
    meaning:
      "the webhook URL is plain http, or its host resolves to a private, loopback or otherwise non-public address",
    fix: "use an https URL of a public host (operators: WEBHOOK_ALLOW_PRIVATE=true allows private ones, for development)",
  },
  webhook_host_not_found: {
    http: 422,
    meaning: "the webhook URL's host does not resolve",
    fix: "check the host name in the URL",
  },
  invalid_event_types: {
    http: 400,
    meaning: "`eventTypes` is empty or names an event type that does not exist",
    fix: "give a non-empty subset of the event types the OpenAPI document lists",
  },
  invalid_watchlist_only: {
    http: 400,
    meaning: "`watchlistOnly` is set for a webhook that does not receive sighting.started",
    fix: "subscribe to sighting.started, or leave watchlistOnly unset",
  },
  invalid_description: {
    http: 400,
    meaning: "the webhook's description is too long",
    fix: "shorten it to the documented limit",
  },
  too_many_webhooks: {
    http: 400,
    meaning: "the tenant has as many webhooks as it may",
    fix: "delete a webhook it no longer needs first",
  },

  // The ingest stream: what ends it, and what its acks refuse.
  too_many_streams: {
    ingest: "stream",
    meaning: "the ingest service is at its limit of open streams",
    fix: "reconnect with backoff; operators raise the limit or add replicas",
  },
  too_many_streams_for_key: {
    ingest: "stream",
    meaning: "the API key has as many open streams as it may",
    fix: "close a stream of this key first, or give each worker its own key",
  },
  shutting_down: {
    ingest: "stream",
    meaning: "the ingest replica is restarting",
    fix: "reconnect (with backoff) and replay the batches not yet acknowledged",
  },
  invalid_batch: {
    ingest: "ack",
    meaning: "fields break the rules of FaceBatch or FaceObservation; `violations` lists them",
    fix: "fix the producer; send the corrected batch under a new batch_id",
  },
  batch_too_large: {
    ingest: "ack",
    meaning: "the batch is over 4 MiB encoded",
    fix: "split it into smaller batches (new batch_ids)",
  },
  batch_id_conflict: {
    ingest: "ack",
    meaning: "the batch_id was stored before with different content; nothing was stored",
    fix: "send this content under a new batch_id",
  },
  site_not_allowed: {
    ingest: "ack",
    meaning: "the API key may stream only for other sites",
    fix: "check SITE_ID, or the key's sites in the dashboard",
  },
  worker_not_allowed: {
    ingest: "ack",
    meaning: "the API key may stream only as other workers",
    fix: "check WORKER_ID, or the key's workers in the dashboard",
  },
  watch_too_slow: {
    http: 429,
    meaning: "a live feed (sightings stream) was not read fast enough and was ended",
    fix: "read the feed continuously, then reconnect",
  },

  // Availability.
  storage_unavailable: {
    http: 503,
    ingest: "stream",
    meaning: "the database did not answer in time; the request had no effect to rely on",
    fix: "retry shortly (ingest: replay the unacknowledged batches on a new stream)",
  },
  service_unavailable: {
    http: 503,
    meaning: "a platform service is unavailable or did not answer in time",
    fix: "retry after the seconds in Retry-After",
  },
  internal: {
    http: 500,
    ingest: "stream",
    meaning: "an unexpected error in the platform",
    fix: "retry; if it persists, report it with the requestId",
  },
} as const satisfies Record<string, FailureCodeEntry>;

/** A code from the table; raising anything else fails the type check. */
export type FailureCode = keyof typeof FAILURE_CODES;

/** The codes the REST API answers problems with (the OpenAPI `Problem.code` enum). */
export type ProblemCode = {
  [C in FailureCode]: (typeof FAILURE_CODES)[C] extends { http: ProblemStatus } ? C : never;
}[FailureCode];

/** The codes of `IngestAck.reason`. */
export type IngestAckReason = {
  [C in FailureCode]: (typeof FAILURE_CODES)[C] extends { ingest: "ack" } ? C : never;
}[FailureCode];

const TABLE: Readonly<Record<string, FailureCodeEntry>> = FAILURE_CODES;

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === "string" && Object.hasOwn(TABLE, value);
}

/** The entry of a code received from elsewhere (a response, a trailer), or undefined when the table lacks it. */
export function failureCodeEntry(code: string): FailureCodeEntry | undefined {
  return Object.hasOwn(TABLE, code) ? TABLE[code] : undefined;
}

/** Every code REST answers problems with, in table order. */
export const PROBLEM_CODES = (Object.keys(FAILURE_CODES) as FailureCode[]).filter(isProblemCode);

export function isProblemCode(code: FailureCode): code is ProblemCode {
  return TABLE[code]!.http !== undefined;
}

/** The HTTP status a code is answered with at the REST API. */
export function problemStatus(code: ProblemCode): ProblemStatus {
  return FAILURE_CODES[code].http;
}

/** A code's meaning and fix as one sentence, for error details. */
export function describeFailure(code: FailureCode): string {
  const { meaning, fix } = FAILURE_CODES[code];
  return `${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}; ${fix}.`;
}
