/** Assembles the people service from a database connection; used by main.ts and by tests. */

import { openGemmScorer } from "@facerec/gallery/gemm-scorer.ts";
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { internalClient } from "@facerec/shared/grpc/clients.ts";
import { MAX_MESSAGE_BYTES, startGrpcServer } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { serveMetrics } from "@facerec/shared/metrics-server.ts";
import { MAX_PHOTO_BYTES } from "@facerec/shared/photo-limits.ts";
import { AuditTrail } from "./audit-trail.ts";
import type { PeopleConfig } from "./config.ts";
import { AnalyzerSlot, FaceAnalyzer } from "./face-analyzer.ts";
import { Faces } from "./faces.ts";
import { GalleryReplica } from "./gallery-replica.ts";
import { watchGallery } from "./gallery-watch.ts";
import { peopleBindings } from "./grpc-handlers.ts";
import { createPeopleMetrics } from "./metrics.ts";
import { peopleModels } from "./models.ts";
import { People } from "./people.ts";
import { PersonErasures } from "./person-erasures.ts";
import { RecognitionSettings } from "./recognition-settings.ts";
import { startWebhooks } from "./webhooks/service.ts";

export async function startPeopleService(config: PeopleConfig, log: Logger) {
  const rules = { minFacePx: config.ENROL_MIN_FACE_PX, minScore: config.ENROL_MIN_DET_SCORE };
  const analyzer = new AnalyzerSlot(async () => {
    const opened = await FaceAnalyzer.open(
      config.MODELS_DIR,
      config.DETECTOR_TYPE,
      config.EMBEDDER_TYPES,
      rules,
    );
    log.info(
      { detector: opened.detector.model, embedders: opened.embedders.map((e) => e.model) },
      "face models loaded",
    );
    return opened;
  });
  await analyzer.get().catch((err: Error) => log.warn(err.message));
  const connection = await connectDatabase(config.MONGO_URL!, config.MONGO_DB);
  const models = await peopleModels(connection);
  const replica = new GalleryReplica({ models, log, pollMs: config.GALLERY_POLL_MS });
  await replica.load();
  const gemm = await openGemmScorer();
  const auditClient = internalClient(AuditServiceClient, config.KEYS_ADDR);
  const audit = new AuditTrail(auditClient);
  // Ingest owns events and sightings: faces are enrolled and searched from them, and deleted people
  // erased from them there (person-erasures.ts).
  const ingest = internalClient(IngestQueryServiceClient, config.INGEST_ADDR);
  const faces = new Faces({
    models,
    analyzer,
    replica,
    audit,
    rules,
    scorer: gemm.scorer,
    ingest,
  });
  const erasures = new PersonErasures({ models, ingest, audit, log });
  const people = new People({ models, faces, audit, erasures });
  const settings = new RecognitionSettings({ models, replica, audit });
  const galleryWatch = watchGallery(replica, log);
  const metrics = createPeopleMetrics(replica.gallery);
  const webhooks = await startWebhooks({
    config,
    connection,
    people: models.people,
    audit,
    log,
    metrics: metrics.webhooks,
  });
  const grpc = await startGrpcServer({
    host: config.BIND_HOST,
    port: config.PEOPLE_PORT,
    services: [...peopleBindings({ people, faces, settings, galleryWatch, log }), webhooks.binding],
    log,
    // Photos travel whole: room for the largest accepted one plus the rest of the request.
    options: { "grpc.max_receive_message_length": MAX_PHOTO_BYTES + MAX_MESSAGE_BYTES },
  });
  const metricsServer =
    config.PEOPLE_METRICS_PORT === undefined
      ? undefined
      : await serveMetrics(metrics.registry, config.BIND_HOST, config.PEOPLE_METRICS_PORT);
  replica.start();
  erasures.start();
  webhooks.start();
  // Faces enrolled before a model was added to EMBEDDER_TYPES get its embedding now, in the background.
  faces.backfillEmbeddings().then(
    (count) => count > 0 && log.info({ faces: count }, "embeddings computed for the models in use"),
    (err: unknown) => log.warn({ err }, "embedding backfill failed; it runs again at the next start"),
  );
  return {
    port: grpc.port,
    async close() {
      await replica.stop();
      // Subscribers (ingest) resubscribe, to another replica or to this one restarted.
      galleryWatch.endAll();
      await erasures.stop();
      await webhooks.close();
      await grpc.close();
      await metricsServer?.close();
      auditClient.close();
      ingest.close();
      await analyzer.close();
      await gemm.close();
      await connection.close();
    },
  };
}
