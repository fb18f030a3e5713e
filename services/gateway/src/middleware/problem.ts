/**
 * Every error leaves the gateway as RFC 9457 `application/problem+json` with a stable `code`, its
 * HTTP status the one the failure-code table (proto/failure-codes.ts) gives it. Errors from internal
 * services keep their code; client mistakes Koa or its middleware detect (bad JSON, oversized bodies)
 * get theirs; anything unexpected is a logged 500 without details.
 */

import {
  isProblemCode,
  type ProblemCode,
  type ProblemStatus,
  problemStatus,
} from "@facerec/proto/failure-codes.ts";
import { AppError } from "@facerec/shared/errors.ts";
import type { Context, Next } from "koa";

const TITLES: Record<ProblemStatus, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export interface FieldError {
  field: string;
  message: string;
}

/** An HTTP-level problem raised inside the gateway (validation, auth, rate limit); its status is its code's. */
export class Problem extends Error {
  readonly status: ProblemStatus;
  readonly code: ProblemCode;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** Further members of the problem object (RFC 9457 extensions), e.g. the faces found in a photo. */
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ProblemCode,
    detail: string,
    opts: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.status = problemStatus(code);
    this.code = code;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
    this.extensions = opts.extensions ?? {};
  }
}

/** Koa/http-errors style errors (thrown by body parsing and friends). */
const CLIENT_ERROR_CODES: Record<number, ProblemCode> = {
  400: "malformed_request",
  413: "body_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof AppError) {
    // Codes REST never answers with (the ingest stream's) cannot come from a REST call: a bug.
    if (!isProblemCode(err.code) || problemStatus(err.code) === 500)
      return new Problem("internal", "internal error");
    // Clients retry a 503 on their own; say when (what a ready replica needs at most).
    const headers: Record<string, string> = problemStatus(err.code) === 503 ? { "Retry-After": "1" } : {};
    return new Problem(err.code, err.message, { headers });
  }
  const httpError = err as {
    status?: number;
    message?: string;
    type?: string;
    headers?: Record<string, string>;
  };
  if (typeof httpError.status === "number" && httpError.status >= 400 && httpError.status < 500) {
    const detail =
      httpError.type === "entity.parse.failed"
        ? "request body is not valid JSON"
        : (httpError.message ?? "bad request");
    return new Problem(CLIENT_ERROR_CODES[httpError.status] ?? "bad_request", detail, {
      headers: Object.fromEntries(Object.entries(httpError.headers ?? {}).map(([k, v]) => [k, String(v)])),
    });
  }
  return new Problem("internal", "internal error");
}

export async function problemDetails(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.body === undefined && ctx.path.startsWith("/v1/")) {
      // What the router answered without a body: no route, or a route that does not take this
      // method (its Allow header set). The router says 501 for methods it has no routes for at
      // all (TRACE, PROPFIND, …), but the resource exists and the method is an HTTP one: 405.
      if (ctx.status === 404) throw new Problem("not_found", `no route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 || ctx.status === 501)
        throw new Problem(
          "method_not_allowed",
          `${ctx.path} does not take ${ctx.method}; it takes ${ctx.response.get("Allow")}`,
        );
    }
  } catch (err) {
    const problem = toProblem(err);
    if (problem.status >= 500) ctx.state.log?.error({ err }, "request failed");
    ctx.status = problem.status;
    ctx.set(problem.headers);
    ctx.type = "application/problem+json";
    ctx.body = {
      type: `urn:facerec:problem:${problem.code}`,
      title: TITLES[problem.status],
      status: problem.status,
      detail: problem.message,
      code: problem.code,
      instance: ctx.path,
      requestId: ctx.state.requestId,
      ...(problem.errors ? { errors: problem.errors } : {}),
      ...problem.extensions,
    };
  }
}
