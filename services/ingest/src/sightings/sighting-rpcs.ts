/** IngestQueryService's sighting RPCs: ListSightings (pages), WatchSightings (the live feed), LastSightings. */
import type {
  IngestQueryServiceServer,
  WatchSightingsRequest,
  WatchSightingsResponse,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { clampPageSize, decodePageToken, encodePageToken } from "@facerec/shared/db/pagination.ts";
import { AppError, invalidArgument } from "@facerec/shared/errors.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import { type SightingStore, toSighting } from "./sighting-store.ts";
import type { SightingTracker } from "./sighting-tracker.ts";

const DEFAULT_PAGE_SIZE = 100;
/** People one LastSightings call may name. */
const MAX_PEOPLE = 500;
/** Bytes a watcher may leave unread before it is ended rather than buffered for. */
const MAX_UNREAD_BYTES = 1 << 20;

export function sightingHandlers(deps: {
  store: SightingStore;
  tracker: SightingTracker;
  log: Logger;
  tenantOf: (actor: WatchSightingsRequest["actor"]) => string;
}): Pick<IngestQueryServiceServer, "listSightings" | "watchSightings" | "lastSightings"> {
  const { store, tracker, log, tenantOf } = deps;
  return {
    listSightings: unary(log, "ListSightings", async (req) => {
      const size = clampPageSize(req.pageSize, DEFAULT_PAGE_SIZE);
      const after = req.pageToken ? decodePageToken(req.pageToken) : undefined;
      const tenantId = tenantOf(req.actor);
      const page = await store.page(
        tenantId,
        {
          personId: req.personId,
          cameraId: req.cameraId,
          siteId: req.siteId,
          workerId: req.workerId,
          fromMs: req.from?.getTime(),
          toMs: req.to?.getTime(),
          identified: req.identified,
        },
        after,
        size,
        tracker.live(tenantId),
      );
      return {
        sightings: page.sightings.map(toSighting),
        nextPageToken: page.next ? encodePageToken(page.next.at, page.next.id) : "",
      };
    }),
    lastSightings: unary(log, "LastSightings", async (req) => {
      const tenantId = tenantOf(req.actor);
      if (req.personIds.length > MAX_PEOPLE)
        throw invalidArgument("invalid_person_id", `at most ${MAX_PEOPLE} people at once`);
      const found = await store.lastOf(tenantId, [...new Set(req.personIds)], tracker.live(tenantId));
      return { sightings: found.map(toSighting) };
    }),
    watchSightings: (call: ServerWritableStream<WatchSightingsRequest, WatchSightingsResponse>) => {
      let tenantId: string;
      try {
        tenantId = tenantOf(call.request.actor);
      } catch (err) {
        call.emit("error", (err as AppError).toServiceError());
        return;
      }
      const unsubscribe = tracker.watch(tenantId, (change) => {
        if (call.writableLength > MAX_UNREAD_BYTES) {
          unsubscribe();
          const slow = new AppError(status.RESOURCE_EXHAUSTED, "watch_too_slow", "the feed was not read");
          call.emit("error", slow.toServiceError());
          return;
        }
        call.write(change);
      });
      call.on("cancelled", unsubscribe);
      call.on("close", unsubscribe);
      // Headers now, so the caller knows the feed is open before the first change.
      call.sendMetadata(new Metadata());
    },
  };
}
