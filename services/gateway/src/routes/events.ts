/** The tenant's face events, as streamed by its workers, and their thumbnails. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { eventListResponse, eventsQuery, jpegBody } from "../ingest-schemas.ts";
import { presentEvent } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { idParams } from "../schemas.ts";

const READERS = ["viewer", "admin"] as const;

export function eventRoutes({ ingest }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/events",
      operationId: "listEvents",
      summary: "The tenant's face events, newest capture first, with optional filters",
      tag: "events",
      access: READERS,
      query: eventsQuery,
      responses: {
        200: {
          description:
            "A page of events. A page reads at most a day of events (or about 100 ms of reading): when " +
            "the filters match few of them it holds fewer than pageSize events, possibly none, with a " +
            "nextPageToken to go on; the list ends when nextPageToken is empty.",
          schema: eventListResponse,
        },
      },
      handler: async (ctx, { query, caller }) => {
        const includeEmbeddings = query.includeEmbeddings ?? false;
        const page = await callUnary(ingest.listEvents.bind(ingest), {
          actor: caller.actor,
          siteId: query.siteId ?? "",
          cameraId: query.cameraId ?? "",
          workerId: query.workerId ?? "",
          personId: query.personId ?? "",
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
          includeEmbeddings,
        });
        ctx.body = {
          events: page.events.map((event) => presentEvent(event, includeEmbeddings)),
          nextPageToken: page.nextPageToken,
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/events/:id/thumbnail",
      operationId: "getEventThumbnail",
      summary: "The JPEG face crop a worker sent with an event",
      tag: "events",
      access: READERS,
      params: idParams,
      responses: { 200: { description: "The JPEG", schema: jpegBody, contentType: "image/jpeg" } },
      handler: async (ctx, { params, caller }) => {
        const { jpeg } = await callUnary(ingest.getEventThumbnail.bind(ingest), {
          actor: caller.actor,
          eventId: params.id,
        });
        ctx.type = "image/jpeg";
        // An event's thumbnail never changes; `private` because it is personal data behind a token.
        ctx.set("Cache-Control", "private, max-age=86400");
        ctx.body = jpeg;
      },
    }),
  ];
}
