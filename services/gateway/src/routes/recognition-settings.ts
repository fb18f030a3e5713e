/** The tenant's match thresholds per embedding model (kept by the people service): viewers read, admins change. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { recognitionSettingsSchema, updateRecognitionSettingsBody } from "../people-schemas.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

const PATH = "/v1/settings/recognition";
const TAG = "settings";

export function recognitionSettingsRoutes({ people }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: PATH,
      operationId: "getRecognitionSettings",
      summary: "The tenant's match thresholds per embedding model, and the defaults",
      tag: TAG,
      access: ["viewer", "admin"],
      responses: { 200: { description: "The settings", schema: recognitionSettingsSchema } },
      handler: async (ctx, { caller }) => {
        const { settings } = await callUnary(people.getRecognitionSettings.bind(people), {
          actor: caller.actor,
        });
        ctx.body = { thresholds: settings?.thresholds ?? {}, defaults: settings?.defaults ?? {} };
      },
    }),
    defineRoute({
      method: "put",
      path: PATH,
      operationId: "updateRecognitionSettings",
      summary: "Replace the tenant's match thresholds (audited; in effect at ingest within about a second)",
      tag: TAG,
      access: ["admin"],
      body: updateRecognitionSettingsBody,
      responses: { 200: { description: "The settings after the change", schema: recognitionSettingsSchema } },
      handler: async (ctx, { body, caller }) => {
        const { settings } = await callUnary(people.updateRecognitionSettings.bind(people), {
          actor: caller.actor,
          thresholds: body.thresholds,
        });
        ctx.body = { thresholds: settings?.thresholds ?? {}, defaults: settings?.defaults ?? {} };
      },
    }),
  ];
}
