/** Tenant management; the auth service admits platform admins only. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import type { Caller } from "../middleware/authenticate.ts";
import { Problem } from "../middleware/problem.ts";
import { presentTenant, presentUser } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { createTenantBody, createTenantResponse, tenantListResponse } from "../schemas.ts";

/** Key-derived tokens never manage tenants, whatever their role. */
function requirePlatformAdmin(caller: Caller): void {
  if (caller.claims.styp !== "user" || !caller.claims.padm)
    throw new Problem("forbidden", "only platform admins may manage tenants");
}

export function tenantRoutes({ auth }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/tenants",
      operationId: "listTenants",
      summary: "List tenants (platform admins only)",
      tag: "tenants",
      access: ["admin"],
      responses: { 200: { description: "Every tenant", schema: tenantListResponse } },
      handler: async (ctx, { caller }) => {
        requirePlatformAdmin(caller);
        const { tenants } = await callUnary(auth.listTenants.bind(auth), { actor: caller.actor });
        ctx.body = { tenants: tenants.map(presentTenant) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/tenants",
      operationId: "createTenant",
      summary: "Create a tenant and its first admin (platform admins only)",
      tag: "tenants",
      access: ["admin"],
      body: createTenantBody,
      responses: { 201: { description: "The tenant and its admin", schema: createTenantResponse } },
      handler: async (ctx, { body, caller }) => {
        requirePlatformAdmin(caller);
        const created = await callUnary(auth.createTenant.bind(auth), { actor: caller.actor, ...body });
        ctx.status = 201;
        ctx.body = { tenant: presentTenant(created.tenant!), admin: presentUser(created.admin!) };
      },
    }),
  ];
}
