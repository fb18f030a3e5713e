import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { presentAuditEvent } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { auditEventListResponse, pageQuery } from "../schemas.ts";

export function auditRoutes({ audit }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/audit-events",
      operationId: "listAuditEvents",
      summary: "The tenant's audit log, newest first",
      tag: "audit",
      access: ["viewer", "admin"],
      query: pageQuery,
      responses: { 200: { description: "A page of events", schema: auditEventListResponse } },
      handler: async (ctx, { query, caller }) => {
        const page = await callUnary(audit.listAuditEvents.bind(audit), {
          actor: caller.actor,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        });
        ctx.body = {
          auditEvents: page.auditEvents.map(presentAuditEvent),
          nextPageToken: page.nextPageToken,
        };
      },
    }),
  ];
}
