/** API key management for a tenant's admins (viewers may read). */
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { roleToProto } from "@facerec/shared/roles.ts";
import type { GatewayDeps } from "../deps.ts";
import { presentApiKey } from "../presenters.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import {
  apiKeyListResponse,
  apiKeyResponse,
  apiKeyUsageQuery,
  apiKeyUsageResponse,
  createApiKeyBody,
  createApiKeyResponse,
  idempotencyKeyHeaders,
  idempotentReplayHeaders,
  idParams,
  pageQuery,
  rotateApiKeyBody,
  updateApiKeyBody,
} from "../schemas.ts";

const READERS = ["viewer", "admin"] as const;
const ADMINS = ["admin"] as const;

export function apiKeyRoutes({ keys }: GatewayDeps): AnyRoute[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/api-keys",
      operationId: "listApiKeys",
      summary: "List the tenant's API keys, newest first",
      tag: "api-keys",
      access: READERS,
      query: pageQuery,
      responses: { 200: { description: "A page of keys", schema: apiKeyListResponse } },
      handler: async (ctx, { query, caller }) => {
        const page = await callUnary(keys.listApiKeys.bind(keys), {
          actor: caller.actor,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        });
        ctx.body = { apiKeys: page.apiKeys.map(presentApiKey), nextPageToken: page.nextPageToken };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/api-keys",
      operationId: "createApiKey",
      summary: "Create an API key; the plaintext key is in this response only",
      tag: "api-keys",
      access: ADMINS,
      body: createApiKeyBody,
      headers: idempotencyKeyHeaders,
      responses: {
        201: {
          description:
            "The key and its only plaintext copy (again, for a replay under the same Idempotency-Key)",
          schema: createApiKeyResponse,
          headers: idempotentReplayHeaders,
        },
      },
      handler: async (ctx, { body, headers, caller }) => {
        const created = await callUnary(keys.createApiKey.bind(keys), {
          actor: caller.actor,
          name: body.name,
          role: roleToProto(body.role),
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
          limits: {
            allowedSiteIds: body.allowedSiteIds ?? [],
            allowedWorkerIds: body.allowedWorkerIds ?? [],
            allowedCidrs: body.allowedCidrs ?? [],
          },
          idempotencyKey: headers["Idempotency-Key"] ?? "",
        });
        ctx.status = 201;
        ctx.set("Cache-Control", "no-store");
        if (created.replayed) ctx.set("Idempotent-Replayed", "true");
        ctx.body = { apiKey: presentApiKey(created.apiKey!), key: created.key };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/api-keys/:id",
      operationId: "getApiKey",
      summary: "Get one API key",
      tag: "api-keys",
      access: READERS,
      params: idParams,
      responses: { 200: { description: "The key", schema: apiKeyResponse } },
      handler: async (ctx, { params, caller }) => {
        const { apiKey } = await callUnary(keys.getApiKey.bind(keys), { actor: caller.actor, id: params.id });
        ctx.body = { apiKey: presentApiKey(apiKey!) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/api-keys/:id/usage",
      operationId: "getApiKeyUsage",
      summary: "A key's use per day: token exchanges, refusals by cause, observations streamed",
      tag: "api-keys",
      access: READERS,
      params: idParams,
      query: apiKeyUsageQuery,
      responses: { 200: { description: "One entry per day, oldest first", schema: apiKeyUsageResponse } },
      handler: async (ctx, { params, query, caller }) => {
        const { days } = await callUnary(keys.getApiKeyUsage.bind(keys), {
          actor: caller.actor,
          id: params.id,
          days: query.days ?? 30,
        });
        ctx.body = { days };
      },
    }),
    defineRoute({
      method: "patch",
      path: "/v1/api-keys/:id",
      operationId: "updateApiKey",
      summary:
        "Rename, activate/deactivate, change or clear (null) the expiration, or replace the site, worker or address limits of an API key",
      tag: "api-keys",
      access: ADMINS,
      params: idParams,
      body: updateApiKeyBody,
      responses: { 200: { description: "The updated key", schema: apiKeyResponse } },
      handler: async (ctx, { params, body, caller }) => {
        const { apiKey } = await callUnary(keys.updateApiKey.bind(keys), {
          actor: caller.actor,
          id: params.id,
          name: body.name,
          active: body.active,
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
          clearExpiresAt: body.expiresAt === null,
          allowedSiteIds: listOrUnset(body.allowedSiteIds),
          allowedWorkerIds: listOrUnset(body.allowedWorkerIds),
          allowedCidrs: listOrUnset(body.allowedCidrs),
        });
        ctx.body = { apiKey: presentApiKey(apiKey!) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/api-keys/:id/rotate",
      operationId: "rotateApiKey",
      summary:
        "Give an API key a new secret (shown once); the current secret keeps working for the grace period, then stops everywhere within a second",
      tag: "api-keys",
      access: ADMINS,
      params: idParams,
      body: rotateApiKeyBody,
      responses: {
        200: {
          description: "The key and its new secret's only plaintext copy",
          schema: createApiKeyResponse,
        },
      },
      handler: async (ctx, { params, body, caller }) => {
        const rotated = await callUnary(keys.rotateApiKey.bind(keys), {
          actor: caller.actor,
          id: params.id,
          gracePeriodSeconds: body.gracePeriodSeconds,
        });
        ctx.set("Cache-Control", "no-store");
        ctx.body = { apiKey: presentApiKey(rotated.apiKey!), key: rotated.key };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/v1/api-keys/:id",
      operationId: "deleteApiKey",
      summary: "Delete an API key for good",
      tag: "api-keys",
      access: ADMINS,
      params: idParams,
      responses: { 204: { description: "Deleted" } },
      handler: async (ctx, { params, caller }) => {
        await callUnary(keys.deleteApiKey.bind(keys), { actor: caller.actor, id: params.id });
        ctx.status = 204;
      },
    }),
  ];
}

/** A list the request set (possibly empty, which lifts the limit), or undefined to leave it alone. */
const listOrUnset = (values: string[] | undefined) => (values ? { values } : undefined);
