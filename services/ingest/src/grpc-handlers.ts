/** Maps the public IngestService and the internal IngestQueryService onto the domain objects. */

import { embeddingValues } from "@facerec/gallery/embedding-bytes.ts";
import {
  type FaceBatch,
  type IngestAck,
  type IngestServiceServer,
  IngestServiceService,
} from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type IngestQueryServiceServer,
  IngestQueryServiceService,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { AppError, invalidArgument, notFound } from "@facerec/shared/errors.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { MAX_CAPTURE_CLOCK_SKEW_MS } from "./batch-validation.ts";
import { type EventLookup, SEARCH_WINDOW_MS } from "./event-lookup.ts";
import type { EventStore } from "./event-store.ts";
import { decodeFaceBatch } from "./face-batch-decoding.ts";
import { FaceStream, type FaceStreamDeps } from "./face-stream.ts";
import type { OpenStreams } from "./open-streams.ts";
import type { PersonErasure } from "./person-erasure.ts";
import { sightingHandlers } from "./sightings/sighting-rpcs.ts";
import type { SightingStore } from "./sightings/sighting-store.ts";
import type { SightingTracker } from "./sightings/sighting-tracker.ts";
import { authenticateWorker } from "./stream-auth.ts";
import type { WorkerRegistry } from "./worker-registry.ts";

export function ingestBinding(
  deps: FaceStreamDeps & { verifier: TokenVerifier; openStreams: OpenStreams },
): ServiceBinding {
  const { verifier, openStreams, metrics, log } = deps;

  /** Ends a call that never became a FaceStream, with the reason as its status. */
  const refuse = (call: ServerDuplexStream<FaceBatch, IngestAck>, err: unknown) => {
    const error =
      err instanceof AppError
        ? err
        : new AppError(status.INTERNAL, "internal", "the stream could not be opened");
    if (!(err instanceof AppError)) log.error({ err }, "opening a stream failed");
    metrics.streamsEnded.inc({ code: error.code });
    if (!call.destroyed) call.emit("error", error.toServiceError());
  };

  const implementation: IngestServiceServer = {
    streamFaces: (call) => {
      // Nothing is read until the token is verified: early batches wait in gRPC's bounded buffer.
      authenticateWorker(call.metadata, verifier).then(
        (claims) => {
          const stream = new FaceStream(call, claims, deps);
          let release: () => void;
          try {
            release = openStreams.admit(stream);
          } catch (err) {
            refuse(call, err);
            return;
          }
          stream.start(release);
        },
        (err: unknown) => refuse(call, err),
      );
    },
  };
  // A batch the generated decoder cannot take becomes a rejected ack instead of ending the stream.
  const definition = {
    ...IngestServiceService,
    streamFaces: { ...IngestServiceService.streamFaces, requestDeserialize: decodeFaceBatch },
  } satisfies typeof IngestServiceService;
  return { name: "facerec.ingest.v1.IngestService", definition, implementation };
}

export function queryBinding(deps: {
  store: EventStore;
  registry: WorkerRegistry;
  sightings: { store: SightingStore; tracker: SightingTracker };
  lookup: EventLookup;
  erasure: PersonErasure;
  log: Logger;
}): ServiceBinding {
  const { store, registry, lookup, erasure, log } = deps;
  const implementation: IngestQueryServiceServer = {
    ...sightingHandlers({ ...deps.sightings, log, tenantOf }),
    listWorkers: unary(log, "ListWorkers", async (req) => ({
      workers: await registry.list(tenantOf(req.actor)),
    })),
    listEvents: unary(log, "ListEvents", (req) =>
      store.list(tenantOf(req.actor), {
        siteId: req.siteId,
        cameraId: req.cameraId,
        workerId: req.workerId,
        personId: req.personId,
        from: req.from,
        to: req.to,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        includeEmbeddings: req.includeEmbeddings,
      }),
    ),
    getEventThumbnail: unary(log, "GetEventThumbnail", async (req) => {
      const jpeg = await store.thumbnail(tenantOf(req.actor), req.eventId);
      if (!jpeg) throw notFound(`event ${req.eventId} does not exist or has no thumbnail`);
      return { jpeg };
    }),
    getEvent: unary(log, "GetEvent", (req) => lookup.get(tenantOf(req.actor), req.eventId)),
    listTrackEvents: unary(log, "ListTrackEvents", async (req) => {
      if (!req.workerId || !req.trackId)
        throw invalidArgument("invalid_track", "worker_id and a non-zero track_id are required");
      // By default up to the latest capture time ingest accepts (a worker's clock may run ahead).
      const to = req.to ?? new Date(Date.now() + MAX_CAPTURE_CLOCK_SKEW_MS);
      const events = await lookup.track(tenantOf(req.actor), req.workerId, req.trackId, to);
      return { events };
    }),
    searchEvents: unary(log, "SearchEvents", (req) => {
      const [from, to] = [req.from, req.to];
      if (!from || !to || to <= from || to.getTime() - from.getTime() > SEARCH_WINDOW_MS)
        throw invalidArgument(
          "invalid_search_window",
          "from and to are required, to after from, at most 24 hours apart",
        );
      if (req.maxResults > 100) throw invalidArgument("invalid_max_results", "maxResults must be 1 to 100");
      if (req.embedding.length === 0 || req.embedding.length % 4 !== 0)
        throw invalidArgument("invalid_embedding", "embedding must be little-endian float32 values");
      return lookup.search(tenantOf(req.actor), req.model, embeddingValues(req.embedding), {
        maxResults: req.maxResults || 10,
        minSimilarity: req.minSimilarity || -1,
        from,
        to,
      });
    }),
    erasePersonObservations: unary(log, "ErasePersonObservations", (req) => {
      if (!req.personId) throw invalidArgument("invalid_person_id", "person_id is required");
      return erasure.erase(tenantOf(req.actor), req.personId, req.purge);
    }),
  };
  return {
    name: "facerec.internal.ingest.v1.IngestQueryService",
    definition: IngestQueryServiceService,
    implementation,
  };
}

/** Every query is scoped to the caller's tenant, which the gateway takes from the caller's token. */
function tenantOf(actor: Actor | undefined): string {
  if (!actor?.tenantId) throw invalidArgument("missing_actor", "actor.tenant_id is required");
  return actor.tenantId;
}
