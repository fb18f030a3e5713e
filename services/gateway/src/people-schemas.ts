/**
 * The REST shapes of people, their enrolled faces and gallery search, and how the PeopleService's
 * messages become them. Like schemas.ts: the same zod schemas validate and document.
 */
import type {
  DetectedFace,
  Person,
  PersonFace,
  PhotoRejection,
  SearchResult,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { isFailureCode, isProblemCode } from "@facerec/proto/failure-codes.ts";
import { z } from "zod";
import { Problem } from "./middleware/problem.ts";
import { problemSchema } from "./schemas.ts";

const timestamp = z.iso.datetime({ offset: true });
const displayName = z.string().trim().min(1).max(200);
const externalId = z.string().trim().min(1).max(128);
const notes = z.string().max(2000);
const labels = z.array(z.string().trim().min(1).max(64)).max(32);

export const personSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    externalId: z.string().nullable().meta({ description: "The tenant's own id, unique per tenant." }),
    notes: z.string(),
    labels: z.array(z.string()),
    watchlist: z.boolean(),
    faceCount: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
    createdBy: z.string(),
  })
  .meta({
    id: "Person",
    example: {
      id: "3f1c…",
      displayName: "Alice Example",
      externalId: "HR-1042",
      notes: "",
      labels: ["staff"],
      watchlist: false,
      faceCount: 2,
      createdAt: "2026-01-05T09:00:00Z",
      updatedAt: "2026-01-05T09:02:00Z",
      createdBy: "admin@localhost",
    },
  });

export const createPersonBody = z.strictObject({
  displayName,
  externalId: externalId.optional(),
  notes: notes.optional(),
  labels: labels.optional(),
  watchlist: z.boolean().optional(),
});

export const updatePersonBody = z.strictObject({
  displayName: displayName.optional(),
  externalId: externalId.nullable().optional().meta({ description: "null clears it." }),
  notes: notes.optional(),
  labels: labels.optional().meta({ description: "Replaces the labels; [] clears them." }),
  watchlist: z.boolean().optional(),
});

export const peopleQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(500).optional(),
  pageToken: z.string().max(200).optional(),
  namePrefix: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: "Display name starts with this (any case)." }),
  label: z.string().min(1).max(64).optional(),
  watchlist: z.stringbool().optional(),
});

export const deletePersonQuery = z.strictObject({
  purgeSightings: z.stringbool().optional().meta({
    description:
      "true: a data-subject erasure: the events and sightings matched to the person are deleted too (with their embeddings and thumbnails). Otherwise they are kept, unmatched (no personId).",
  }),
});

export const personResponse = z.object({ person: personSchema });

const boxSchema = z
  .object({
    x: z.number().min(0),
    y: z.number().min(0),
    width: z.number().positive(),
    height: z.number().positive(),
  })
  .meta({ id: "Box", description: "In pixels of the photo; (x, y) is the top-left corner." });

export const faceSchema = z
  .object({
    id: z.string(),
    personId: z.string(),
    bbox: boxSchema.meta({ description: "Where the face was in the enrolment photo." }),
    detScore: z.number(),
    detector: z.string(),
    embeddings: z.array(z.object({ model: z.string(), embeddingDim: z.number().int() })),
    cropSize: z.number().int(),
    thumbnailUrl: z.string().meta({ description: "The aligned face crop, JPEG." }),
    eventId: z.string().nullable().meta({ description: "The event it was enrolled from; null for a photo." }),
    createdAt: timestamp,
    createdBy: z.string(),
  })
  .meta({ id: "PersonFace" });

export const faceResponse = z.object({
  face: faceSchema,
  faces: z.array(faceSchema).optional().meta({
    description:
      "With a JSON body: every face enrolled, best first (one for an event, up to 5 for a track); `face` is the first.",
  }),
});
export const faceListResponse = z.object({ faces: z.array(faceSchema) });

export const faceParams = z.strictObject({
  id: z.string().min(1).max(64),
  faceId: z.string().min(1).max(64),
});

const photo = z
  .custom<Buffer>((v) => Buffer.isBuffer(v), "required: the photo as a file part")
  .meta({ type: "string", format: "binary", description: "JPEG, PNG or WebP, at most 10 MiB." });
const faceIndex = z.coerce
  .number()
  .int()
  .min(0)
  // An index the service then checks against the faces found; bounded so it fits the proto's uint32.
  .max(999)
  .optional()
  .meta({ description: "Which face of a photo with several (the index `multiple_faces` listed)." });
const bbox = z
  .string()
  .max(200)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'a JSON box: {"x":…,"y":…,"width":…,"height":…}' });
      return z.NEVER;
    }
  })
  .pipe(boxSchema)
  .optional()
  .meta({ description: 'Which face, by a JSON box in photo pixels: {"x":…,"y":…,"width":…,"height":…}.' });

const includeEvents = {
  description:
    "Also return the most similar stored events (`events`), like Rekognition's matched faces: the events of the same embedding model captured in the last `eventsWithinHours`, at most 50,000 of them compared, newest first (`eventsTruncated` says when there were more). A day of events is read whole, so keep the window short.",
};
const maxEvents = { description: "With includeEvents: at most this many events (1 to 100; default 10)." };
const eventsWithinHours = {
  description: "With includeEvents: compare the events of the last this many hours (1 to 24; default 1).",
};

export const enrolFaceBody = z.strictObject({ image: photo, faceIndex, bbox });

const eventId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "an event id as events carry it")
  .meta({ description: "An event of the tenant (GET /v1/events)." });
const trackId = z
  .union([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,15}$/)])
  .transform(Number)
  .pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
  .meta({ description: "The tracker id, as events carry it (a number, or its decimal string)." });

export const enrolObservedBody = z
  .union([
    z.strictObject({ eventId }),
    z.strictObject({
      workerId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9._-]"),
      trackId,
    }),
  ])
  .meta({
    id: "EnrolObservedFaces",
    description:
      'Enrol a streamed face instead of a photo: `{"eventId"}` stores that event\'s embedding and thumbnail ("this face is Alice"); `{"workerId","trackId"}` the track\'s best: up to 5 of its observations with a thumbnail, highest quality first, each at least 1 s apart in capture time. The track is the worker\'s most recent one with that id in the last 24 hours.',
    example: { eventId: "2026120614-Gm0bqX1c9VbY2t8K3wQe5R" },
  });

export const searchByEventBody = z
  .strictObject({
    eventId,
    maxResults: z.number().int().min(1).max(100).optional().meta({ description: "Default 10." }),
    minSimilarity: z.number().min(-1).max(1).optional().meta({ description: "Cosine; default no floor." }),
    includeEvents: z.boolean().optional().meta(includeEvents),
    maxEvents: z.number().int().min(1).max(100).optional().meta(maxEvents),
    eventsWithinHours: z.number().int().min(1).max(24).optional().meta(eventsWithinHours),
  })
  .meta({
    id: "SearchByEvent",
    description: "Search with a stored event's own embedding (its model's gallery) instead of a photo.",
    example: { eventId: "2026120614-Gm0bqX1c9VbY2t8K3wQe5R", maxResults: 5 },
  });

export const searchFacesBody = z.strictObject({
  image: photo,
  faceIndex,
  bbox,
  maxResults: z.coerce.number().int().min(1).max(100).optional().meta({ description: "Default 10." }),
  minSimilarity: z.coerce
    .number()
    .min(-1)
    .max(1)
    .optional()
    .meta({ description: "Cosine; default no floor." }),
  includeEvents: z.stringbool().optional().meta(includeEvents),
  maxEvents: z.coerce.number().int().min(1).max(100).optional().meta(maxEvents),
  eventsWithinHours: z.coerce.number().int().min(1).max(24).optional().meta(eventsWithinHours),
});

const detectedFaceSchema = z.object({ index: z.number().int(), bbox: boxSchema, detScore: z.number() });

export const searchResponse = z
  .object({
    searchedFace: detectedFaceSchema
      .nullable()
      .meta({ description: "The photo's face searched; null for an event." }),
    eventId: z.string().nullable().meta({ description: "The event searched with; null for a photo." }),
    model: z.string().meta({ description: "The embedding model compared with." }),
    gallerySize: z.number().int().meta({ description: "Enrolled faces compared against." }),
    matches: z.array(
      z.object({
        person: personSchema,
        similarity: z.number().meta({ description: "Cosine similarity of the best face, -1..1." }),
        faceId: z.string(),
      }),
    ),
    events: z
      .array(
        z.object({
          event: z.object({
            id: z.string(),
            capturedAt: timestamp,
            workerId: z.string(),
            siteId: z.string(),
            cameraId: z.string(),
            trackId: z.string(),
            personId: z.string().nullable().meta({ description: "Whom it was matched to when stored." }),
            thumbnailUrl: z.string().nullable(),
          }),
          similarity: z.number().meta({ description: "Cosine similarity, -1..1." }),
        }),
      )
      .optional()
      .meta({
        description:
          "With includeEvents: the most similar stored events, best first (GET /v1/events has them whole).",
      }),
    eventsCompared: z
      .number()
      .int()
      .optional()
      .meta({ description: "With includeEvents: stored events compared." }),
    eventsTruncated: z
      .boolean()
      .optional()
      .meta({ description: "With includeEvents: the window held more events than were compared." }),
  })
  .meta({ id: "FaceSearchResult" });

export const photoProblemSchema = problemSchema
  .extend({
    faces: z
      .array(detectedFaceSchema)
      .optional()
      .meta({ description: "The faces found, for `multiple_faces` (pick one by faceIndex or bbox)." }),
  })
  .meta({
    id: "PhotoProblem",
    example: {
      type: "urn:facerec:problem:multiple_faces",
      title: "Unprocessable Content",
      status: 422,
      detail: "the photo has 2 faces; name one with faceIndex or bbox",
      code: "multiple_faces",
      instance: "/v1/people/3f1c…/faces",
      requestId: "…",
      faces: [
        { index: 0, bbox: { x: 120, y: 80, width: 96, height: 96 }, detScore: 0.97 },
        { index: 1, bbox: { x: 410, y: 95, width: 90, height: 90 }, detScore: 0.95 },
      ],
    },
  });

/** Every way a photo can be refused, as documented responses. */
export const photoProblems = {
  413: {
    description: "`image_too_large`: over 10 MiB",
    schema: photoProblemSchema,
    contentType: "application/problem+json",
  },
  415: {
    description: "`unsupported_media_type`: not multipart, or not JPEG, PNG or WebP",
    schema: photoProblemSchema,
    contentType: "application/problem+json",
  },
  422: {
    description:
      "`invalid_image`, `no_face_found`, `multiple_faces` (lists `faces`), `face_too_small`, `face_low_quality`, `face_not_found`; from an event or track: `event_without_thumbnail`, `event_without_embedding`, `track_without_thumbnails`",
    schema: photoProblemSchema,
    contentType: "application/problem+json",
  },
};

/** A photo the people service refused, as the problem the client gets; its status is its code's. */
export function photoProblem(rejection: PhotoRejection): Problem {
  // The contract carries the code as a string: one the table lacks would be a people-service bug.
  const code = isFailureCode(rejection.code) && isProblemCode(rejection.code) ? rejection.code : "internal";
  return new Problem(code, rejection.message, {
    ...(rejection.faces.length > 0
      ? { extensions: { faces: rejection.faces.map(presentDetectedFace) } }
      : {}),
  });
}

const iso = (d: Date | undefined) => d?.toISOString() ?? "";

export function presentPerson(person: Person): z.infer<typeof personSchema> {
  return {
    id: person.id,
    displayName: person.displayName,
    externalId: person.externalId || null,
    notes: person.notes,
    labels: person.labels,
    watchlist: person.watchlist,
    faceCount: person.faceCount,
    createdAt: iso(person.createdAt),
    updatedAt: iso(person.updatedAt),
    createdBy: person.createdBy,
  };
}

export function presentFace(face: PersonFace): z.infer<typeof faceSchema> {
  return {
    id: face.id,
    personId: face.personId,
    bbox: face.bbox!,
    detScore: face.detScore,
    detector: face.detector,
    embeddings: face.embeddings,
    cropSize: face.cropSize,
    thumbnailUrl: `/v1/people/${encodeURIComponent(face.personId)}/faces/${encodeURIComponent(face.id)}/thumbnail`,
    eventId: face.eventId || null,
    createdAt: iso(face.createdAt),
    createdBy: face.createdBy,
  };
}

function presentDetectedFace(face: DetectedFace): z.infer<typeof detectedFaceSchema> {
  return { index: face.index, bbox: face.bbox!, detScore: face.detScore };
}

export function presentSearchResult(
  result: SearchResult,
  includeEvents: boolean,
): z.infer<typeof searchResponse> {
  return {
    ...(includeEvents
      ? {
          events: result.events.map(({ event, similarity }) => ({
            event: {
              id: event!.id,
              capturedAt: iso(event!.capturedAt),
              workerId: event!.workerId,
              siteId: event!.siteId,
              cameraId: event!.cameraId,
              trackId: String(event!.trackId),
              personId: event!.personId || null,
              thumbnailUrl: event!.hasThumbnail
                ? `/v1/events/${encodeURIComponent(event!.id)}/thumbnail`
                : null,
            },
            similarity,
          })),
          eventsCompared: result.eventsCompared,
          eventsTruncated: result.eventsTruncated,
        }
      : {}),
    searchedFace: result.searchedFace ? presentDetectedFace(result.searchedFace) : null,
    eventId: result.eventId || null,
    model: result.model,
    gallerySize: result.gallerySize,
    matches: result.matches.map((m) => ({
      person: presentPerson(m.person!),
      similarity: m.similarity,
      faceId: m.faceId,
    })),
  };
}

const modelId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9._-]{1,64}$/, "a model id: vendor/name, e.g. dlib/resnet-v1-128");
const threshold = z.number().min(-1).max(1).meta({ description: "A cosine similarity, -1 to 1." });

export const recognitionSettingsSchema = z
  .object({
    thresholds: z.record(z.string(), z.number()).meta({
      description:
        "The tenant's own match threshold per embedding model (cosine); empty: the defaults apply.",
    }),
    defaults: z.record(z.string(), z.number()).meta({
      description:
        "The platform's default per model, measured by `npm run eval:recognition` (the threshold at FAR = 1e-3). A model in neither map is never matched.",
    }),
  })
  .meta({
    id: "RecognitionSettings",
    description:
      "An observation is matched to the most similar enrolled face of its tenant and embedding model when their cosine similarity reaches the model's threshold.",
    example: { thresholds: { "dlib/resnet-v1-128": 0.92 }, defaults: { "dlib/resnet-v1-128": 0.908 } },
  });

export const updateRecognitionSettingsBody = z
  .strictObject({
    thresholds: z
      .record(modelId, threshold)
      .refine((t) => Object.keys(t).length <= 32, "at most 32 models")
      .meta({ description: "Replaces the tenant's thresholds; models left out use the default." }),
  })
  .meta({ example: { thresholds: { "dlib/resnet-v1-128": 0.92 } } });
