/** People who sign in to the dashboard: a tenant's admins add admins and viewers to their own tenant. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import type { GatewayDeps } from "../deps.ts";
import { presentUser } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { createUserBody, userResponse } from "../schemas.ts";

export function userRoutes({ auth }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "post",
      path: "/v1/users",
      operationId: "createUser",
      summary: "Add an admin or viewer to the caller's tenant",
      tag: "users",
      access: ["admin"],
      body: createUserBody,
      responses: { 201: { description: "The new user", schema: userResponse } },
      handler: async (ctx, { body, caller }) => {
        const { user } = await callUnary(auth.createUser.bind(auth), {
          actor: caller.actor,
          email: body.email,
          password: body.password,
          role: roleToProto(body.role),
        });
        ctx.status = 201;
        ctx.body = { user: presentUser(user!) };
      },
    }),
  ];
}
