/** The tenant's edge workers, as the ingest service sees them. */
import type { WorkerStatus } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { workerListResponse } from "../ingest-schemas.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

const iso = (d: Date | undefined) => d?.toISOString() ?? null;

function presentWorker(worker: WorkerStatus) {
  return {
    workerId: worker.workerId,
    keyId: worker.keyId,
    keyName: worker.keyName,
    siteId: worker.siteId,
    cameraId: worker.cameraId,
    remoteAddress: worker.remoteAddress,
    connected: worker.connected,
    connectedSince: iso(worker.connectedSince),
    lastBatchAt: iso(worker.lastBatchAt),
    lastSeenAt: iso(worker.lastSeenAt),
    observationsPerMinute: worker.observationsPerMinute,
    streamCount: worker.streamCount,
    disconnectReason: worker.connected ? null : worker.disconnectReason || null,
  };
}

export function workerRoutes({ ingest }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/workers",
      operationId: "listWorkers",
      summary: "The tenant's connected and recently seen workers, most recently seen first",
      tag: "workers",
      access: ["viewer", "admin"],
      responses: { 200: { description: "Workers", schema: workerListResponse } },
      handler: async (ctx, { caller }) => {
        const { workers } = await callUnary(ingest.listWorkers.bind(ingest), { actor: caller.actor });
        ctx.body = { workers: workers.map(presentWorker) };
      },
    }),
  ];
}
