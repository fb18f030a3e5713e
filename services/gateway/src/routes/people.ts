/** A tenant's people and their enrolled faces: viewers read, admins change. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { jpegBody } from "../ingest-schemas.ts";
import {
  createPersonBody,
  deletePersonQuery,
  enrolFaceBody,
  enrolObservedBody,
  faceListResponse,
  faceParams,
  faceResponse,
  peopleQuery,
  personResponse,
  photoProblem,
  photoProblems,
  presentFace,
  presentPerson,
  updatePersonBody,
} from "../people-schemas.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { idParams } from "../schemas.ts";
import { personListWithLastSightingResponse, personWithLastSightingResponse } from "../sighting-schemas.ts";
import { lastSightingsFinder } from "./sightings.ts";

const READERS = ["viewer", "admin"] as const;
const ADMINS = ["admin"] as const;
const TAG = "people";

export function peopleRoutes(deps: GatewayDeps): AnyRoute[] {
  const { people } = deps;
  const lastSightings = lastSightingsFinder(deps);
  return [
    defineRoute({
      method: "get",
      path: "/v1/people",
      operationId: "listPeople",
      summary: "List the tenant's people, newest first, filtered by name prefix, label and watchlist",
      tag: TAG,
      access: READERS,
      query: peopleQuery,
      responses: {
        200: {
          description: "A page of people, each with their last sighting",
          schema: personListWithLastSightingResponse,
        },
      },
      handler: async (ctx, { query, caller }) => {
        const page = await callUnary(people.listPeople.bind(people), {
          actor: caller.actor,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
          namePrefix: query.namePrefix ?? "",
          label: query.label ?? "",
          watchlist: query.watchlist,
        });
        const last = await lastSightings(caller.actor, page.people);
        ctx.body = {
          people: page.people.map((p) => ({
            ...presentPerson(p),
            ...(last ? { lastSighting: last.get(p.id) ?? null } : {}),
          })),
          nextPageToken: page.nextPageToken,
        };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/people",
      operationId: "createPerson",
      summary: "Add a person to the tenant",
      tag: TAG,
      access: ADMINS,
      body: createPersonBody,
      responses: { 201: { description: "The person", schema: personResponse } },
      handler: async (ctx, { body, caller }) => {
        const { person } = await callUnary(people.createPerson.bind(people), {
          actor: caller.actor,
          displayName: body.displayName,
          externalId: body.externalId ?? "",
          notes: body.notes ?? "",
          labels: body.labels ?? [],
          watchlist: body.watchlist ?? false,
        });
        ctx.status = 201;
        ctx.body = { person: presentPerson(person!) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/people/:id",
      operationId: "getPerson",
      summary: "Get one person",
      tag: TAG,
      access: READERS,
      params: idParams,
      responses: {
        200: { description: "The person, with their last sighting", schema: personWithLastSightingResponse },
      },
      handler: async (ctx, { params, caller }) => {
        const { person } = await callUnary(people.getPerson.bind(people), {
          actor: caller.actor,
          id: params.id,
        });
        const last = await lastSightings(caller.actor, [person!]);
        ctx.body = {
          person: {
            ...presentPerson(person!),
            ...(last ? { lastSighting: last.get(params.id) ?? null } : {}),
          },
        };
      },
    }),
    defineRoute({
      method: "patch",
      path: "/v1/people/:id",
      operationId: "updatePerson",
      summary: "Change a person's name, external id (null clears it), notes, labels or watchlist flag",
      tag: TAG,
      access: ADMINS,
      params: idParams,
      body: updatePersonBody,
      responses: { 200: { description: "The updated person", schema: personResponse } },
      handler: async (ctx, { params, body, caller }) => {
        const { person } = await callUnary(people.updatePerson.bind(people), {
          actor: caller.actor,
          id: params.id,
          displayName: body.displayName,
          externalId: body.externalId === null ? "" : body.externalId,
          notes: body.notes,
          replaceLabels: body.labels !== undefined,
          labels: body.labels ?? [],
          watchlist: body.watchlist,
        });
        ctx.body = { person: presentPerson(person!) };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/v1/people/:id",
      operationId: "deletePerson",
      summary:
        "Delete a person with every enrolled face, crop and embedding, and erase them from the observations",
      tag: TAG,
      access: ADMINS,
      params: idParams,
      query: deletePersonQuery,
      responses: {
        204: {
          description:
            "Deleted, and nothing is matched to them from now on. Their events and sightings are unmatched (or, with purgeSightings=true, deleted) by the ingest service, usually before this answer; when ingest is unavailable that erasure is retried until it is done. Both are in the audit log (`person.deleted`, `person.observations_erased`).",
        },
      },
      handler: async (ctx, { params, query, caller }) => {
        await callUnary(
          people.deletePerson.bind(people),
          { actor: caller.actor, id: params.id, purgeSightings: query.purgeSightings ?? false },
          ERASURE_CALL_TIMEOUT_MS,
        );
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/people/:id/faces",
      operationId: "enrolPersonFace",
      summary:
        "Enrol a face of the person: from a photo (multipart field `image`), or from a streamed event or track (JSON)",
      tag: TAG,
      access: ADMINS,
      params: idParams,
      bodyType: "multipart/form-data",
      body: enrolFaceBody,
      jsonBody: enrolObservedBody,
      responses: {
        201: {
          description: "The enrolled face (with JSON: `faces`, every one enrolled)",
          schema: faceResponse,
        },
        ...photoProblems,
      },
      handler: async (ctx, { params, body, caller }) => {
        if ("image" in body) {
          const { face, rejection } = await callUnary(
            people.enrollFace.bind(people),
            {
              actor: caller.actor,
              personId: params.id,
              image: body.image,
              selection:
                body.faceIndex !== undefined || body.bbox
                  ? { faceIndex: body.faceIndex, bbox: body.bbox }
                  : undefined,
            },
            PHOTO_CALL_TIMEOUT_MS,
          );
          if (rejection) throw photoProblem(rejection);
          ctx.status = 201;
          ctx.body = { face: presentFace(face!) };
          return;
        }
        const { faces, rejection } = await callUnary(
          people.enrollObservedFaces.bind(people),
          {
            actor: caller.actor,
            personId: params.id,
            ...("eventId" in body
              ? { eventId: body.eventId }
              : { track: { workerId: body.workerId, trackId: body.trackId } }),
          },
          PHOTO_CALL_TIMEOUT_MS,
        );
        if (rejection) throw photoProblem(rejection);
        ctx.status = 201;
        ctx.body = { face: presentFace(faces[0]!), faces: faces.map(presentFace) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/people/:id/faces",
      operationId: "listPersonFaces",
      summary: "The faces enrolled for a person, oldest first",
      tag: TAG,
      access: READERS,
      params: idParams,
      responses: { 200: { description: "The faces", schema: faceListResponse } },
      handler: async (ctx, { params, caller }) => {
        const { faces } = await callUnary(people.listFaces.bind(people), {
          actor: caller.actor,
          personId: params.id,
        });
        ctx.body = { faces: faces.map(presentFace) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/people/:id/faces/:faceId/thumbnail",
      operationId: "getPersonFaceThumbnail",
      summary: "An enrolled face's aligned crop (112×112 JPEG)",
      tag: TAG,
      access: READERS,
      params: faceParams,
      responses: { 200: { description: "The JPEG", schema: jpegBody, contentType: "image/jpeg" } },
      handler: async (ctx, { params, caller }) => {
        const { jpeg } = await callUnary(people.getFaceThumbnail.bind(people), {
          actor: caller.actor,
          personId: params.id,
          faceId: params.faceId,
        });
        ctx.type = "image/jpeg";
        // A face's crop never changes; `private` because it is personal data behind a token.
        ctx.set("Cache-Control", "private, max-age=86400");
        ctx.body = jpeg;
      },
    }),
    defineRoute({
      method: "delete",
      path: "/v1/people/:id/faces/:faceId",
      operationId: "deletePersonFace",
      summary: "Remove one enrolled face with its crop and embeddings",
      tag: TAG,
      access: ADMINS,
      params: faceParams,
      responses: { 204: { description: "Deleted" } },
      handler: async (ctx, { params, caller }) => {
        await callUnary(people.deleteFace.bind(people), {
          actor: caller.actor,
          personId: params.id,
          faceId: params.faceId,
        });
        ctx.status = 204;
      },
    }),
  ];
}

/** Deleting a person waits for ingest's erasure of their observations (or its failure: retried later). */
const ERASURE_CALL_TIMEOUT_MS = 20_000;

/** Decoding, detecting and embedding a large photo takes longer than a database call. */
export const PHOTO_CALL_TIMEOUT_MS = 15_000;
