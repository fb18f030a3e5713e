/** The REST /v1 resources as the gateway returns them (proto3 JSON mapping, RFC 3339 timestamps). */

export type UserRole = "admin" | "viewer";
export type ApiKeyRole = "worker" | "viewer" | "admin";
export type ApiKeyStatus = "active" | "inactive" | "expired";

export interface User {
  id: string;
  tenantId: string;
  email: string;
  role: UserRole;
  platformAdmin: boolean;
}

/** The answer of POST /v1/auth/login and POST /v1/auth/refresh. */
export interface Session {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: User;
}

export interface ApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  /** The non-secret start of the key, for recognising it in the list. */
  prefix: string;
  active: boolean;
  status: ApiKeyStatus;
  expiresAt: string | null;
  /** Active and expiring within 7 days. */
  expiresSoon: boolean;
  lastUsedAt: string | null;
  /** The last ingest stream that used the key; null until one has. */
  lastUsedBy: { workerId: string; remoteAddress: string } | null;
  createdAt: string;
  createdBy: string;
  /** When the secret was last rotated; null if never. */
  rotatedAt: string | null;
  /** While a rotation's grace period runs: when the previous secret stops working. */
  previousSecretExpiresAt: string | null;
  /** Limits; an empty list means none. */
  allowedSiteIds: string[];
  allowedWorkerIds: string[];
  allowedCidrs: string[];
  /** Active and unused for 30 days: a candidate for deactivation. */
  stale: boolean;
}

/** One UTC day of GET /v1/api-keys/{id}/usage. */
export interface ApiKeyUsageDay {
  day: string;
  tokenExchanges: number;
  /** Refused exchanges by problem code. */
  refusals: Record<string, number>;
  observations: number;
}

/** The limits a key may have; an empty (or, on update, absent) list means none (or unchanged). */
export interface ApiKeyLimits {
  allowedSiteIds?: string[];
  allowedWorkerIds?: string[];
  allowedCidrs?: string[];
}

export interface CreateApiKeyInput extends ApiKeyLimits {
  name: string;
  role: ApiKeyRole;
  expiresAt?: string;
}

/** `expiresAt: null` clears the expiration. */
export interface UpdateApiKeyInput extends ApiKeyLimits {
  name?: string;
  active?: boolean;
  expiresAt?: string | null;
}

export interface CreatedApiKey {
  apiKey: ApiKey;
  /** The plaintext key: returned by the server once, never stored by the dashboard. */
  key: string;
}

export interface ApiKeyPage {
  apiKeys: ApiKey[];
  nextPageToken: string;
}

export interface AuditActor {
  actorId: string;
  actorType: string;
  displayName: string;
  remoteAddress: string;
  userAgent: string;
}

export interface AuditChange {
  field: string;
  oldValue: string;
  newValue: string;
}

export interface AuditEvent {
  id: string;
  tenantId: string;
  action: string;
  actor: AuditActor;
  targetType: string;
  targetId: string;
  changes: AuditChange[];
  occurredAt: string;
}

export interface AuditEventPage {
  auditEvents: AuditEvent[];
  nextPageToken: string;
}

export interface Worker {
  workerId: string;
  keyId: string;
  keyName: string;
  siteId: string;
  cameraId: string;
  remoteAddress: string;
  connectedSince: string | null;
  lastBatchAt: string | null;
  /**
   * A batch, a stream opening or closing, or an open stream's heartbeat. For a disconnected worker:
   * when its last stream closed (or its ingest replica was last heard from).
   */
  lastSeenAt: string;
  observationsPerMinute: number;
  streamCount: number;
  connected: boolean;
  /** Why the last stream ended, while disconnected (a stable code such as `key_inactive`); null while connected. */
  disconnectReason: string | null;
}

export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceEvent {
  id: string;
  batchId: string;
  workerId: string;
  siteId: string;
  cameraId: string;
  capturedAt: string;
  bbox: BoundingBox;
  detScore: number;
  quality: number;
  model: string;
  embeddingDim: number;
  trackId: string;
  /** Where the JPEG crop is (needs the bearer token), or null when the worker sent none. */
  thumbnailUrl: string | null;
}

export interface FaceEventPage {
  events: FaceEvent[];
  nextPageToken: string;
}

export interface EventFilters {
  siteId?: string;
  cameraId?: string;
  workerId?: string;
  /** RFC 3339 */
  from?: string;
  /** RFC 3339 */
  to?: string;
}

export interface Person {
  id: string;
  displayName: string;
  /** The tenant's own id, unique per tenant. */
  externalId: string | null;
  notes: string;
  labels: string[];
  watchlist: boolean;
  faceCount: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  /** The most recent sighting, where the server reports it. */
  lastSighting?: Sighting | null;
}

export interface PersonPage {
  people: Person[];
  nextPageToken: string;
}

export interface PersonFilters {
  /** Display name starts with this (any case). */
  namePrefix?: string;
  label?: string;
  watchlist?: boolean;
}

export interface CreatePersonInput {
  displayName: string;
  externalId?: string;
  notes?: string;
  labels?: string[];
  watchlist?: boolean;
}

/** `externalId: null` clears it; `labels` replaces them. */
export interface UpdatePersonInput {
  displayName?: string;
  externalId?: string | null;
  notes?: string;
  labels?: string[];
  watchlist?: boolean;
}

export interface PersonFace {
  id: string;
  personId: string;
  /** Where the face was in the enrolment photo, in its pixels. */
  bbox: BoundingBox;
  detScore: number;
  detector: string;
  embeddings: { model: string; embeddingDim: number }[];
  cropSize: number;
  thumbnailUrl: string;
  createdAt: string;
  createdBy: string;
}

/** A face the server found in a photo (listed by a 422 `multiple_faces`). */
export interface DetectedFace {
  index: number;
  bbox: BoundingBox;
  detScore: number;
}

export interface FaceSearchResult {
  searchedFace: DetectedFace;
  model: string;
  gallerySize: number;
  matches: { person: Person; similarity: number; faceId: string }[];
}

/** One person (or one unknown track) seen at one camera over a span of time. */
export interface Sighting {
  id: string;
  personId: string | null;
  personName: string | null;
  watchlist: boolean;
  trackId: number;
  workerId: string;
  siteId: string;
  cameraId: string;
  model: string;
  firstSeenAt: string;
  lastSeenAt: string;
  observations: number;
  bestSimilarity: number | null;
  bestEventId: string;
  bestEventHasThumbnail: boolean;
}

export interface SightingPage {
  sightings: Sighting[];
  nextPageToken: string;
}

export interface SightingFilters {
  personId?: string;
  cameraId?: string;
  siteId?: string;
  workerId?: string;
  /** RFC 3339 */
  from?: string;
  /** RFC 3339 */
  to?: string;
  identified?: boolean;
}

/** Decision thresholds per embedding model: the tenant's, and the defaults from the evaluation. */
export interface RecognitionSettings {
  thresholds: Record<string, number>;
  defaults: Record<string, number>;
}
