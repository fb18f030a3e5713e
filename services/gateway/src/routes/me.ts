import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { ROLES } from "@facerec/shared/tokens/claims.ts";
import type { GatewayDeps } from "../deps.ts";
import { presentApiKey, presentUser } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { meResponse } from "../schemas.ts";

export function meRoutes({ auth, keys }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/me",
      operationId: "getMe",
      summary: "The caller: a signed-in user or an API key",
      tag: "auth",
      access: ROLES,
      responses: { 200: { description: "The caller", schema: meResponse } },
      handler: async (ctx, { caller }) => {
        const { claims, actor } = caller;
        const me = { tenantId: claims.tid, role: claims.role };
        if (claims.styp === "user") {
          const { user } = await callUnary(auth.getUser.bind(auth), { actor, id: claims.sub });
          ctx.body = { ...me, user: user && presentUser(user) };
        } else {
          const { apiKey } = await callUnary(keys.getApiKey.bind(keys), { actor, id: claims.sub });
          ctx.body = { ...me, apiKey: apiKey && presentApiKey(apiKey) };
        }
      },
    }),
  ];
}
