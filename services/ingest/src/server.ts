/** Assembles the ingest service: database, token verification, revocations, both gRPC servers, background jobs. */

import { openGemmScorer } from "@facerec/gallery/gemm-scorer.ts";
import { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { PeopleServiceClient } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { AppError } from "@facerec/shared/errors.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { serveMetrics } from "@facerec/shared/metrics-server.ts";
import { RevocationFeed } from "@facerec/shared/tokens/revocation-feed.ts";
import { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import { status } from "@grpc/grpc-js";
import type { IngestConfig } from "./config.ts";
import { EventLookup } from "./event-lookup.ts";
import { EventStore } from "./event-store.ts";
import { MAX_MESSAGE_BYTES } from "./face-batch-decoding.ts";
import { GalleryFollower } from "./gallery-follower.ts";
import { ingestBinding, queryBinding } from "./grpc-handlers.ts";
import { KeyUseRecorder } from "./key-use.ts";
import { moveLegacyEvents } from "./legacy-events.ts";
import { Matcher } from "./matcher.ts";
import { createIngestMetrics } from "./metrics.ts";
import { ingestModels } from "./models.ts";
import { OpenStreams } from "./open-streams.ts";
import { PersonErasure } from "./person-erasure.ts";
import { RetentionSweeper } from "./retention-sweeper.ts";
import { SightingStore } from "./sightings/sighting-store.ts";
import { SightingTracker } from "./sightings/sighting-tracker.ts";
import { WorkerRegistry } from "./worker-registry.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export async function startIngestService(config: IngestConfig, log: Logger) {
  const connection = await connectDatabase(config.MONGO_URL!, config.MONGO_DB);
  const models = await ingestModels(connection);
  // Matching follows the people service's gallery but never waits for it (gallery-follower.ts).
  const people = internalClient(PeopleServiceClient, config.PEOPLE_ADDR, {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
  });
  const gallery = new GalleryFollower(people, log);
  gallery.start();
  const gemm = await openGemmScorer();
  const store = new EventStore(models, new Matcher({ follower: gallery, scorer: gemm.scorer, log }));
  const sightings = new SightingStore(models);
  const tracker = new SightingTracker({ store: sightings, events: store, log });
  // Before any stream: an earlier process's open sightings are rebuilt from the stored events.
  await tracker.start();
  store.afterStore((tenantId, documents, duplicate) => tracker.record(tenantId, documents, duplicate));
  const registry = new WorkerRegistry({
    models,
    replicaId: crypto.randomUUID(),
    heartbeatMs: config.WORKER_HEARTBEAT_MS,
    log,
  });
  const retentionMs = config.EVENT_RETENTION_DAYS * DAY_MS;
  const sweeper = new RetentionSweeper({
    store,
    registry,
    retentionMs,
    intervalMs: config.RETENTION_SWEEP_INTERVAL_MS,
    log,
  });
  const metrics = createIngestMetrics(gallery);

  const auth = internalClient(AuthServiceClient, config.AUTH_ADDR);
  const keys = internalClient(KeysServiceClient, config.KEYS_ADDR);
  const revocations = new RevocationFeed(keys, log);
  revocations.start();
  // No waiting for the keys service here: until the feed has synced, the verifier accepts no token
  // (streams end UNAVAILABLE `revocations_unavailable`) and both servers' services report
  // NOT_SERVING (readiness); the servers themselves stay SERVING (liveness).
  const verifier = new TokenVerifier({ auth, revocations, log });

  const openStreams = new OpenStreams({
    maxStreams: config.INGEST_MAX_STREAMS,
    maxStreamsPerKey: config.INGEST_MAX_STREAMS_PER_KEY,
  });
  revocations.on("revoked", (revocation) => {
    const closed = openStreams.revoke(revocation);
    if (closed > 0) log.info({ keyId: revocation.keyId, closed }, "closed the streams of a revoked key");
  });

  const ingest = await startGrpcServer({
    host: config.INGEST_HOST,
    port: config.INGEST_PORT,
    options: { "grpc.max_receive_message_length": MAX_MESSAGE_BYTES },
    services: [
      ingestBinding({
        verifier,
        openStreams,
        store,
        registry,
        keyUse: new KeyUseRecorder(keys, log),
        metrics,
        log,
        retentionMs,
        maxInFlight: config.INGEST_MAX_IN_FLIGHT_PER_STREAM,
      }),
    ],
    log,
  });
  // Bound after the public port on purpose: the gateway's readiness checks this internal server's
  // health, so "ready" implies workers can already connect and be verified.
  const internal = await startGrpcServer({
    host: config.BIND_HOST,
    port: config.INGEST_INTERNAL_PORT,
    services: [
      queryBinding({
        store,
        registry,
        sightings: { store: sightings, tracker },
        lookup: new EventLookup({ models, store }),
        erasure: new PersonErasure({ models, listing: store.listing, tracker, follower: gallery, log }),
        log,
      }),
    ],
    log,
  });
  const followRevocations = (synced: boolean) => {
    ingest.setServing(synced);
    internal.setServing(synced);
  };
  followRevocations(revocations.synced);
  revocations.on("synced", followRevocations);
  const metricsServer =
    config.INGEST_METRICS_PORT === undefined
      ? undefined
      : await serveMetrics(metrics.registry, config.BIND_HOST, config.INGEST_METRICS_PORT);
  registry.start();
  sweeper.start();
  void moveLegacyEvents(models.database, store, log).catch((err: unknown) =>
    log.warn({ err }, "moving events of the single-collection layout failed; the next start goes on with it"),
  );

  return {
    port: ingest.port,
    internalPort: internal.port,
    async close() {
      await sweeper.stop();
      await tracker.stop();
      // Tell workers to reconnect (to another replica, or to this one after the restart).
      openStreams.closeAll(
        new AppError(status.UNAVAILABLE, "shutting_down", "the ingest service is restarting; reconnect"),
      );
      await Promise.all([ingest.close(), internal.close(), metricsServer?.close()]);
      revocations.close();
      gallery.close();
      await registry.stop();
      auth.close();
      keys.close();
      people.close();
      await gemm.close();
      await connection.close();
    },
  };
}
