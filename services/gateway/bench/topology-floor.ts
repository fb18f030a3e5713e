/**
 * The auth benchmark's same-topology floor: what the design's process hops cost on their own.
 * Three processes, as in the stack:
 *   front  — Koa with the gateway's body parser: POST /v1/auth/token → middle, GET /v1/api-keys/:id → leaf
 *   middle — an AuthService whose ExchangeApiKey makes the same second hop (VerifyApiKey → leaf)
 *   leaf   — a KeysService whose VerifyApiKey and GetApiKey answer at once
 * Every handler returns a canned response of the real one's size (FLOOR_PAYLOAD, taken from the real
 * stack by the benchmark), through the platform's own gRPC server, client and handler helpers, so
 * the floor differs from the real path only by the work the services do.
 *
 *   node topology-floor.ts leaf|middle|front   (prints {"port": N} on stdout once listening)
 */

import {
  AuthServiceClient,
  AuthServiceService,
  type ExchangeApiKeyRequest,
} from "@facerec/proto/facerec/internal/auth/v1/auth.ts";
import {
  type ApiKey,
  KeysServiceClient,
  KeysServiceService,
} from "@facerec/proto/facerec/internal/keys/v1/keys.ts";
import { callUnary, internalClient } from "@facerec/shared/grpc/clients.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import { startGrpcServer } from "@facerec/shared/grpc/server.ts";
import { createLogger } from "@facerec/shared/logger.ts";
import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";

export interface FloorPayload {
  /** A real access token (its length is what matters). */
  accessToken: string;
  expiresIn: number;
  /** The real key, as the keys service returns it. */
  apiKey: ApiKey;
  /** The real REST bodies the gateway answers with. */
  tokenResponse: Record<string, unknown>;
  apiKeyResponse: Record<string, unknown>;
}

const payload = JSON.parse(process.env.FLOOR_PAYLOAD ?? "null", (key, value) =>
  key.endsWith("At") && typeof value === "string" ? new Date(value) : value,
) as FloorPayload;
const log = createLogger("topology-floor", "warn");
const announce = (port: number) => console.log(JSON.stringify({ port }));

async function leaf() {
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    log,
    services: [
      {
        name: "facerec.internal.keys.v1.KeysService",
        definition: KeysServiceService,
        implementation: {
          verifyApiKey: unary(log, "VerifyApiKey", async () => ({
            failure: 0,
            apiKey: payload.apiKey,
            secretExpiresAt: undefined,
            issueAfter: undefined,
          })),
          getApiKey: unary(log, "GetApiKey", async () => ({ apiKey: payload.apiKey })),
        },
      },
    ],
  });
  announce(server.port);
}

async function middle() {
  const keys = internalClient(KeysServiceClient, process.env.LEAF_ADDR!);
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    log,
    services: [
      {
        name: "facerec.internal.auth.v1.AuthService",
        definition: AuthServiceService,
        implementation: {
          exchangeApiKey: unary(log, "ExchangeApiKey", async (req: ExchangeApiKeyRequest) => {
            const verdict = await callUnary(keys.verifyApiKey.bind(keys), {
              key: req.apiKey,
              tenantId: req.tenantId,
              remoteAddress: req.remoteAddress,
            });
            return { accessToken: payload.accessToken, expiresIn: payload.expiresIn, apiKey: verdict.apiKey };
          }),
        },
      },
    ],
  });
  announce(server.port);
}

function front() {
  const auth = internalClient(AuthServiceClient, process.env.MIDDLE_ADDR!);
  const keys = internalClient(KeysServiceClient, process.env.LEAF_ADDR!);
  const router = new Router();
  router.post("/v1/auth/token", async (ctx) => {
    const body = ctx.request.body as { apiKey: string; tenantId: string };
    await callUnary(auth.exchangeApiKey.bind(auth), {
      apiKey: body.apiKey,
      tenantId: body.tenantId,
      remoteAddress: ctx.ip,
    });
    ctx.body = payload.tokenResponse;
  });
  router.get("/v1/api-keys/:id", async (ctx) => {
    await callUnary(keys.getApiKey.bind(keys), { actor: undefined, id: ctx.params.id! });
    ctx.body = payload.apiKeyResponse;
  });
  const app = new Koa();
  app.use(bodyParser({ enableTypes: ["json"], encoding: "utf-8" }));
  app.use(router.routes());
  const server = app.listen(0, "127.0.0.1", () => {
    const address = server.address();
    announce(typeof address === "object" && address ? address.port : 0);
  });
}

const role = process.argv[2];
if (role === "leaf") await leaf();
else if (role === "middle") await middle();
else if (role === "front") front();
else throw new Error("usage: topology-floor.ts leaf|middle|front");
