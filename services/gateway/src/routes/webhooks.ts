/** Webhooks (kept by the people service): viewers read, admins register and delete. */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { GatewayDeps } from "../deps.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import { idParams } from "../schemas.ts";
import {
  createWebhookBody,
  createWebhookResponse,
  deliveriesQuery,
  presentDelivery,
  presentWebhook,
  webhookDeliveryListResponse,
  webhookListResponse,
  webhookResponse,
  webhookUrlProblem,
} from "../webhook-schemas.ts";

const READERS = ["viewer", "admin"] as const;
const ADMINS = ["admin"] as const;
const TAG = "webhooks";

export function webhookRoutes({ webhooks }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "post",
      path: "/v1/webhooks",
      operationId: "createWebhook",
      summary:
        "Register a webhook for sighting.started and/or api_key.expiring; its signing secret is in this response only",
      tag: TAG,
      access: ADMINS,
      body: createWebhookBody,
      responses: {
        201: {
          description: "The webhook and its only copy of the signing secret",
          schema: createWebhookResponse,
        },
        ...webhookUrlProblem,
      },
      handler: async (ctx, { body, caller }) => {
        const created = await callUnary(
          webhooks.createWebhook.bind(webhooks),
          {
            actor: caller.actor,
            url: body.url,
            eventTypes: body.eventTypes,
            watchlistOnly: body.watchlistOnly ?? false,
            description: body.description ?? "",
          },
          // Resolving the URL's host is part of creating it.
          10_000,
        );
        ctx.status = 201;
        ctx.set("Cache-Control", "no-store");
        ctx.body = { webhook: presentWebhook(created.webhook!), secret: created.secret };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/webhooks",
      operationId: "listWebhooks",
      summary: "List the tenant's webhooks, newest first (no secrets)",
      tag: TAG,
      access: READERS,
      responses: { 200: { description: "Every webhook of the tenant", schema: webhookListResponse } },
      handler: async (ctx, { caller }) => {
        const { webhooks: list } = await callUnary(webhooks.listWebhooks.bind(webhooks), {
          actor: caller.actor,
        });
        ctx.body = { webhooks: list.map(presentWebhook) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/webhooks/:id",
      operationId: "getWebhook",
      summary: "Get one webhook (no secret)",
      tag: TAG,
      access: READERS,
      params: idParams,
      responses: { 200: { description: "The webhook", schema: webhookResponse } },
      handler: async (ctx, { params, caller }) => {
        const { webhook } = await callUnary(webhooks.getWebhook.bind(webhooks), {
          actor: caller.actor,
          id: params.id,
        });
        ctx.body = { webhook: presentWebhook(webhook!) };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/v1/webhooks/:id",
      operationId: "deleteWebhook",
      summary: "Delete a webhook and its deliveries (pending ones are not sent)",
      tag: TAG,
      access: ADMINS,
      params: idParams,
      responses: { 204: { description: "Deleted" } },
      handler: async (ctx, { params, caller }) => {
        await callUnary(webhooks.deleteWebhook.bind(webhooks), { actor: caller.actor, id: params.id });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/webhooks/:id/deliveries",
      operationId: "listWebhookDeliveries",
      summary:
        "A webhook's recent deliveries, newest first: status, attempts, the last answer's status and body excerpt, the next attempt",
      tag: TAG,
      access: READERS,
      params: idParams,
      query: deliveriesQuery,
      responses: { 200: { description: "A page of deliveries", schema: webhookDeliveryListResponse } },
      handler: async (ctx, { params, query, caller }) => {
        const page = await callUnary(webhooks.listWebhookDeliveries.bind(webhooks), {
          actor: caller.actor,
          webhookId: params.id,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        });
        ctx.body = { deliveries: page.deliveries.map(presentDelivery), nextPageToken: page.nextPageToken };
      },
    }),
  ];
}
