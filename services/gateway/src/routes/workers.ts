/** The tenant's edge workers, as the ingest service sees them. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { workerListResponse } from "../ingest-schemas.ts";
import { presentWorker } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

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
