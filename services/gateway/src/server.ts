/** Assembles the gateway: internal clients, the revocation feed, the token verifier and the HTTP server. */
import { createServer, type Server } from "node:http";
import { AuditServiceClient } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import { AuthServiceClient } from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { KeysServiceClient } from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { PeopleServiceClient } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { WebhooksServiceClient } from "@facerec/proto/facerec/internal/webhooks/v1/webhooks.ts";
import { callUnary, HealthCheck, internalClient } from "@facerec/shared/grpc/clients.ts";
import { MAX_MESSAGE_BYTES } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { serveMetrics } from "@facerec/shared/metrics-server.ts";
import { MAX_PHOTO_BYTES } from "@facerec/shared/photo-limits.ts";
import { RevocationFeed } from "@facerec/shared/tokens/revocation-feed.ts";
import { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import { collectDefaultMetrics, register } from "prom-client";
import { createApp, type Readiness } from "./app.ts";
import type { GatewayConfig } from "./config.ts";

let defaultMetricsStarted = false;

export async function startGateway(config: GatewayConfig, log: Logger) {
  if (!defaultMetricsStarted) {
    collectDefaultMetrics();
    defaultMetricsStarted = true;
  }
  const auth = internalClient(AuthServiceClient, config.AUTH_ADDR);
  const keys = internalClient(KeysServiceClient, config.KEYS_ADDR);
  const audit = internalClient(AuditServiceClient, config.KEYS_ADDR);
  const ingest = internalClient(IngestQueryServiceClient, config.INGEST_ADDR);
  const ingestHealth = new HealthCheck(config.INGEST_ADDR);
  const people = internalClient(PeopleServiceClient, config.PEOPLE_ADDR, {
    // Photos travel whole: room for the largest accepted one plus the rest of the request.
    "grpc.max_send_message_length": MAX_PHOTO_BYTES + MAX_MESSAGE_BYTES,
  });
  const peopleHealth = new HealthCheck(config.PEOPLE_ADDR);
  const webhooks = internalClient(WebhooksServiceClient, config.PEOPLE_ADDR);
  const revocations = new RevocationFeed(keys, log);
  revocations.start();
  const verifier = new TokenVerifier({ auth, revocations, log });

  const readiness = async (): Promise<Readiness> => {
    const authAnswers = await callUnary(auth.getJwks.bind(auth), {}, 1000).then(
      () => true,
      () => false,
    );
    // The ingest's query service is SERVING once its public port is up and its revocation feed has
    // synced, so SERVING here means workers can stream too.
    const ingestAnswers = await ingestHealth.serving("facerec.internal.ingest.v1.IngestQueryService");
    const checks = {
      auth: authAnswers,
      keys: revocations.synced,
      ingest: ingestAnswers,
      people: await peopleHealth.serving(),
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  const app = createApp(
    { config, auth, keys, audit, ingest, people, webhooks, verifier, revocations },
    { log, readiness },
  );
  const server: Server = createServer(app.callback());
  // Slow-client protection: bounded header and request times.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // A port in use rejects (runService names the variable) instead of crashing on an unhandled event.
  await new Promise<void>((resolve, reject) =>
    server.once("error", reject).listen(config.GATEWAY_PORT, config.GATEWAY_HOST, resolve),
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.GATEWAY_PORT;
  const metricsServer =
    config.GATEWAY_METRICS_PORT === undefined
      ? undefined
      : await serveMetrics(register, config.BIND_HOST, config.GATEWAY_METRICS_PORT);
  log.info({ port }, "gateway listening");
  return {
    port,
    revocations,
    async close() {
      await metricsServer?.close();
      revocations.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of [auth, keys, audit, ingest, ingestHealth, people, peopleHealth, webhooks])
        client.close();
    },
  };
}
