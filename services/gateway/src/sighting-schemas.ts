/**
 * REST shapes of sightings (same conventions as schemas.ts: lowerCamelCase, RFC 3339 timestamps).
 * The agreed dashboard contract: `Sighting` below, `GET /v1/sightings` and the SSE frames of
 * `GET /v1/sightings/stream`.
 */
import { z } from "zod";
import { personSchema } from "./people-schemas.ts";

const timestamp = z.iso.datetime({ offset: true });
const nameId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9._-]");
const personId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9_-]");

const EXAMPLE = {
  id: "2026120614-3fJq9x2Vd0XqK1mZp7s4Aa",
  personId: "6f1c2a9e-0d3b-4c55-9b1e-2f0a4e7d8c11",
  personName: "Alice Martin",
  watchlist: false,
  trackId: 42,
  workerId: "worker-entrance",
  siteId: "site-hq",
  cameraId: "cam-lobby",
  model: "insightface/w600k_r50",
  firstSeenAt: "2026-12-06T14:03:11.200Z",
  lastSeenAt: "2026-12-06T14:03:58.900Z",
  observations: 17,
  bestSimilarity: 0.71,
  bestEventId: "2026120614-Gm0bqX1c9VbY2t8K3wQe5R",
  bestEventHasThumbnail: true,
};

export const sightingSchema = z
  .object({
    id: z.string(),
    personId: z.string().nullable().meta({ description: "The person seen; null for an unknown face." }),
    personName: z.string().nullable().meta({
      description:
        "The person's display name (people service, looked up when the sighting is sent); null for an unknown face or a person since deleted.",
    }),
    watchlist: z
      .boolean()
      .meta({ description: "Whether the person is on the watchlist (false when unknown)." }),
    trackId: z.number().int().meta({ description: "Tracker id of the first observation; 0 when untracked." }),
    workerId: z.string().meta({ description: "Worker of the first observation." }),
    siteId: z.string(),
    cameraId: z.string(),
    model: z.string().meta({ description: "Embedding model of the first observation." }),
    firstSeenAt: timestamp,
    lastSeenAt: timestamp,
    observations: z
      .number()
      .int()
      .meta({ description: "Distinct observations (a replayed batch counts once)." }),
    bestSimilarity: z
      .number()
      .nullable()
      .meta({ description: "Highest similarity to the person's enrolled faces; null when unknown." }),
    bestEventId: z.string().meta({
      description:
        "The observation with the best face; its JPEG is GET /v1/events/{bestEventId}/thumbnail when bestEventHasThumbnail.",
    }),
    bestEventHasThumbnail: z.boolean(),
  })
  .meta({
    id: "Sighting",
    description:
      "One person, or one unknown track, seen at one camera: observations of that subject with no gap over 30 s, for at most 10 minutes (a longer stay continues as a new sighting).",
    example: EXAMPLE,
  });

export const sightingsQuery = z
  .strictObject({
    personId: personId.optional(),
    cameraId: nameId.optional(),
    siteId: nameId.optional(),
    workerId: nameId.optional().meta({ description: "Worker of the sighting's first observation." }),
    from: timestamp.optional().meta({ description: "Seen at or after (lastSeenAt >= from), RFC 3339." }),
    to: timestamp.optional().meta({ description: "Seen before (firstSeenAt < to), RFC 3339." }),
    identified: z
      .stringbool()
      .optional()
      .meta({ description: "true: only sightings of a person; false: only unknown faces." }),
    pageSize: z.coerce.number().int().min(1).max(500).optional().meta({ description: "Default 100." }),
    pageToken: z.string().max(200).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: "from must be before to",
    path: ["from"],
  })
  .refine((q) => !(q.personId && q.identified === false), {
    message: "a personId filter matches only identified sightings; drop identified=false",
    path: ["identified"],
  });

export const sightingListResponse = z
  .object({
    sightings: z.array(sightingSchema),
    nextPageToken: z.string().meta({ description: "Empty on the last page." }),
  })
  .meta({
    id: "SightingList",
    example: { sightings: [EXAMPLE], nextPageToken: "" },
  });

export const sightingStreamBody = z.string().meta({
  description:
    "Server-Sent Events: `event: sighting.started` or `event: sighting.updated`, an opaque `id`, and `data`: a Sighting as JSON; a `: keep-alive` comment every 15 s. Changes are sent about once a second (each sighting at most once per second). Send the same `Authorization: Bearer` header as to other routes (read it with fetch, not EventSource). The stream ends when the token expires or is revoked: reconnect with a fresh token.",
  example: `event: sighting.started\nid: ${EXAMPLE.id}.17\ndata: ${JSON.stringify(EXAMPLE)}\n\n: keep-alive\n\n`,
});

export const personListWithLastSightingResponse = z
  .object({
    people: z.array(
      personSchema.extend({
        lastSighting: sightingSchema.nullable().optional().meta({
          description:
            "The person's most recent sighting in the last 7 days (read for at most about 200 ms); null when none was found; absent when sightings could not be read (ingest unavailable).",
        }),
      }),
    ),
    nextPageToken: z.string(),
  })
  .meta({ id: "PersonList" });

export const personWithLastSightingResponse = z
  .object({
    person: personSchema.extend({
      lastSighting: sightingSchema.nullable().optional().meta({
        description:
          "The person's most recent sighting in the last 7 days; null when none was found; absent when sightings could not be read (ingest unavailable).",
      }),
    }),
  })
  .meta({ id: "PersonWithLastSighting" });
