/**
 * One declaration per endpoint: its path, who may call it, the zod schemas of its input and output,
 * and its handler. `mountRoutes` turns the declarations into Koa routes (authentication, role check,
 * validation) and into the OpenAPI 3.1 document, so validation and documentation share one source.
 */

import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import type { RoleName } from "@facerec/shared/tokens/claims.ts";
import type { TokenVerifier } from "@facerec/shared/tokens/verifier.ts";
import type Router from "@koa/router";
import type { Context, Middleware, Next } from "koa";
import type { z } from "zod";
import { camelCaseKeys } from "./input-case.ts";
import { authenticate, type Caller } from "./middleware/authenticate.ts";
import { Problem } from "./middleware/problem.ts";
import { multipartBody } from "./multipart.ts";
import { problemSchema } from "./schemas.ts";

type Schema = z.ZodType;
type Infer<S> = S extends Schema ? z.infer<S> : undefined;

export interface RouteSpec<
  B extends Schema | undefined,
  Q extends Schema | undefined,
  P extends Schema | undefined,
  J extends Schema | undefined = undefined,
> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Koa-style path, e.g. `/v1/api-keys/:id`. */
  path: string;
  /**
   * Unique lowerCamelCase name of the operation: what generated clients call the method
   * (`createApiKey` rather than `post_v1_api_keys`). Never change one once published.
   */
  operationId: string;
  summary: string;
  tag: string;
  /** Roles that may call it, or "public" for unauthenticated endpoints. */
  access: "public" | readonly RoleName[];
  body?: B;
  /** How the body is sent: JSON (default) or multipart/form-data (uploads; parsed after the role check). */
  bodyType?: "application/json" | "multipart/form-data";
  /** A JSON body accepted instead of a multipart `body`: the request's content type decides. */
  jsonBody?: J;
  query?: Q;
  params?: P;
  /** Request headers it reads, by their names (e.g. `Idempotency-Key`), validated and documented. */
  headers?: z.ZodObject;
  /** Cookies it reads, by their names, validated and documented. */
  cookies?: z.ZodObject;
  /** Status → response schema (undefined for empty bodies) and the headers it sets. */
  responses: Record<
    number,
    { description: string; schema?: Schema; contentType?: string; headers?: z.ZodObject }
  >;
  /** Extra Koa middleware run before validation (e.g. a rate limiter). */
  before?: Middleware[];
  handler: (
    ctx: Context,
    input: {
      body: Infer<B> | Infer<J>;
      query: Infer<Q>;
      params: Infer<P>;
      headers: Record<string, string | undefined>;
      cookies: Record<string, string | undefined>;
      caller: Caller;
    },
  ) => Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes with different input schemas
export type AnyRoute = RouteSpec<any, any, any, any>;

export const defineRoute = <
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  P extends Schema | undefined = undefined,
  J extends Schema | undefined = undefined,
>(
  spec: RouteSpec<B, Q, P, J>,
): RouteSpec<B, Q, P, J> => spec;

function validate(schema: Schema | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  // Body and query fields are also accepted in snake_case (proto3 JSON); header and cookie names are exact.
  const named = where === "header" || where === "cookie";
  const result = schema.safeParse(named ? value : camelCaseKeys(value ?? {}));
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new Problem("validation_failed", errors.map((e) => `${e.field}: ${e.message}`).join("; "), {
    errors,
  });
}

export function mountRoutes(router: Router, routes: AnyRoute[], verifier: TokenVerifier): void {
  for (const route of routes) {
    const guard = route.access === "public" ? [] : [authenticate(verifier, route.access)];
    const upload = route.bodyType === "multipart/form-data" ? [multipartBody] : [];
    const json = (ctx: Context) => route.jsonBody !== undefined && Boolean(ctx.is("application/json"));
    const uploadUnlessJson = upload.map(
      (parse) => (ctx: Context, next: Next) => (json(ctx) ? next() : parse(ctx, next)),
    );
    router[route.method](
      route.path,
      ...(route.before ?? []),
      ...guard,
      ...uploadUnlessJson,
      async (ctx: Context) => {
        const input = {
          body: validate(
            json(ctx) ? route.jsonBody : route.body,
            (ctx.request as { body?: unknown }).body,
            "body",
          ),
          query: validate(route.query, ctx.query, "query"),
          params: validate(route.params, ctx.params, "path"),
          headers: (validate(
            route.headers,
            read(route.headers, (name) => ctx.get(name)),
            "header",
          ) ?? {}) as Record<string, string | undefined>,
          cookies: (validate(
            route.cookies,
            read(route.cookies, (name) => ctx.cookies.get(name)),
            "cookie",
          ) ?? {}) as Record<string, string | undefined>,
          caller: ctx.state.caller as Caller,
        };
        await route.handler(ctx, input);
      },
    );
  }
}

/** The values of the named headers or cookies a route declares (absent ones undefined). */
function read(names: z.ZodObject | undefined, get: (name: string) => string | undefined) {
  if (!names) return undefined;
  return Object.fromEntries(Object.keys(names.shape).map((name) => [name, get(name) || undefined]));
}

export function openApiDocument(routes: AnyRoute[]) {
  const ids = routes.map((r) => r.operationId);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) throw new Error(`operationId used twice: ${repeated.join(", ")}`);
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  for (const route of routes) {
    const problem = {
      description: "Problem details",
      content: { "application/problem+json": { schema: problemSchema } },
    };
    registry.registerPath({
      method: route.method,
      path: route.path.replace(/:(\w+)/g, "{$1}"),
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.access === "public"
        ? {}
        : { security: [{ bearer: [] }], description: `Roles: ${route.access.join(", ")}.` }),
      request: {
        ...(route.body
          ? {
              body: {
                required: true,
                content: {
                  [route.bodyType ?? "application/json"]: { schema: route.body },
                  ...(route.jsonBody ? { "application/json": { schema: route.jsonBody } } : {}),
                },
              },
            }
          : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.params ? { params: route.params } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.cookies ? { cookies: route.cookies } : {}),
      },
      responses: {
        ...Object.fromEntries(
          Object.entries(route.responses).map(([status, r]) => [
            status,
            {
              description: r.description,
              ...(r.schema
                ? { content: { [r.contentType ?? "application/json"]: { schema: r.schema } } }
                : {}),
              ...(r.headers ? { headers: r.headers } : {}),
            },
          ]),
        ),
        "4XX": problem,
        "5XX": problem,
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "facerec REST API",
      version: "1.0.0",
      description:
        "Admin and worker REST API of the facerec platform. Errors are RFC 9457 problem details with a stable `code`.",
    },
    servers: [{ url: "/" }],
  });
}
