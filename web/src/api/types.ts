/**
 * The REST /v1 resources as the gateway returns them, and the inputs it takes: aliases of the types
 * generated from its OpenAPI document (generated/rest-api.ts, `npm run api:generate`), so a field
 * changed in a route's schema changes here or fails the build. Only what the dashboard itself adds
 * (filters' shapes, roles as unions) is written here.
 */
import type { components, operations } from "./generated/rest-api.ts";

type Schemas = components["schemas"];
/** The JSON body an operation takes. */
type JsonBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;
/**
 * The query parameters an operation takes, without paging; the `Flags` the query carries as
 * "true"/"false" are booleans here (the client writes them out).
 */
type Filters<Op extends keyof operations, Flags extends string = never> = Omit<
  NonNullable<operations[Op]["parameters"]["query"]>,
  "pageSize" | "pageToken" | Flags
> & { [F in Flags]?: boolean };

export type UserRole = Schemas["User"]["role"];
export type ApiKeyRole = Schemas["ApiKey"]["role"];
export type ApiKeyStatus = Schemas["ApiKey"]["status"];

export type User = Schemas["User"];
/** The answer of POST /v1/auth/login and POST /v1/auth/refresh. */
export type Session = Schemas["SessionResponse"];
export type ApiKey = Schemas["ApiKey"];
export type ApiKeyUsage = Schemas["ApiKeyUsage"];
/** One UTC day of GET /v1/api-keys/{id}/usage. */
export type ApiKeyUsageDay = ApiKeyUsage["days"][number];
export type CreateApiKeyInput = JsonBody<"createApiKey">;
/** `expiresAt: null` clears the expiration. */
export type UpdateApiKeyInput = JsonBody<"updateApiKey">;
/** The limits a key may have; an empty (or, on update, absent) list means none (or unchanged). */
export type ApiKeyLimits = Pick<CreateApiKeyInput, "allowedSiteIds" | "allowedWorkerIds" | "allowedCidrs">;
export type CreatedApiKey = Schemas["CreatedApiKey"];
export type ApiKeyPage = Schemas["ApiKeyList"];

export type AuditEvent = Schemas["AuditEvent"];
export type AuditActor = AuditEvent["actor"];
export type AuditChange = AuditEvent["changes"][number];
export type AuditEventPage = Schemas["AuditEventList"];

export type Worker = Schemas["Worker"];

export type BoundingBox = Schemas["FaceEvent"]["bbox"];
export type FaceEvent = Schemas["FaceEvent"];
export type FaceEventPage = Schemas["FaceEventList"];
export type EventFilters = Filters<"listEvents">;

/** A person as listed and read: with their most recent sighting (absent when it could not be read). */
export type Person = Schemas["PersonList"]["people"][number];
export type PersonPage = Schemas["PersonList"];
export type PersonFilters = Filters<"listPeople", "watchlist">;
export type CreatePersonInput = JsonBody<"createPerson">;
/** `externalId: null` clears it; `labels` replaces them. */
export type UpdatePersonInput = JsonBody<"updatePerson">;
export type PersonFace = Schemas["PersonFace"];
/** A face the server found in a photo (listed by a 422 `multiple_faces`). */
export type DetectedFace = NonNullable<Schemas["PhotoProblem"]["faces"]>[number];
export type FaceSearchResult = Schemas["FaceSearchResult"];

/** One person (or one unknown track) seen at one camera over a span of time. */
export type Sighting = Schemas["Sighting"];
export type SightingPage = Schemas["SightingList"];
export type SightingFilters = Filters<"listSightings", "identified">;

/** Decision thresholds per embedding model: the tenant's, and the defaults from the evaluation. */
export type RecognitionSettings = Schemas["RecognitionSettings"];
