/**
 * Search of the tenant's gallery by photo or by a stored event, like Rekognition's
 * SearchFacesByImage, optionally with the most similar stored events of the last hours.
 */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import {
  photoProblem,
  photoProblems,
  presentSearchResult,
  searchByEventBody,
  searchFacesBody,
  searchResponse,
} from "../people-schemas.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { PHOTO_CALL_TIMEOUT_MS } from "./people.ts";

const EVENT_SEARCH_TIMEOUT_MS = 30_000;

export function faceSearchRoutes({ people }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "post",
      path: "/v1/faces/search",
      operationId: "searchFaces",
      summary:
        "The people most similar to the face in a photo (the largest face unless one is named), or to a stored event's face (JSON `eventId`)",
      tag: "people",
      access: ["viewer", "admin"],
      bodyType: "multipart/form-data",
      body: searchFacesBody,
      jsonBody: searchByEventBody,
      responses: {
        200: { description: "The best matches, best first", schema: searchResponse },
        ...photoProblems,
      },
      handler: async (ctx, { body, caller }) => {
        const { result, rejection } = await callUnary(
          people.searchFaces.bind(people),
          {
            actor: caller.actor,
            ...("image" in body
              ? {
                  image: body.image,
                  selection:
                    body.faceIndex !== undefined || body.bbox
                      ? { faceIndex: body.faceIndex, bbox: body.bbox }
                      : undefined,
                  eventId: "",
                }
              : { image: Buffer.alloc(0), selection: undefined, eventId: body.eventId }),
            maxResults: body.maxResults ?? 0,
            minSimilarity: body.minSimilarity ?? 0,
            maxEvents: body.includeEvents ? (body.maxEvents ?? 10) : 0,
            eventsWithinHours: body.eventsWithinHours ?? 1,
          },
          // Comparing the stored events of up to a day reads them all.
          body.includeEvents ? EVENT_SEARCH_TIMEOUT_MS : PHOTO_CALL_TIMEOUT_MS,
        );
        if (rejection) throw photoProblem(rejection);
        ctx.body = presentSearchResult(result!, body.includeEvents ?? false);
      },
    }),
  ];
}
