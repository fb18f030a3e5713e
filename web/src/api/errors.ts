/** RFC 9457 problem details from the gateway, as one typed error the UI can show. */
import type { components } from "./generated/rest-api.ts";

/**
 * A problem's `code`: one of the server's (the OpenAPI `Problem.code` enum, made from the platform's
 * failure-code table, so a branch on a code the server never sends fails the type check), or one
 * this client gives failures that carry none.
 */
export type ApiErrorCode =
  | components["schemas"]["Problem"]["code"]
  | "network_error"
  | "client_error"
  | "unauthenticated"
  | `http_${number}`;

export interface FieldViolation {
  field: string;
  message: string;
}

interface ProblemBody {
  [member: string]: unknown;
  type?: unknown;
  title?: unknown;
  status?: unknown;
  detail?: unknown;
  code?: unknown;
  instance?: unknown;
  errors?: unknown;
}

export interface ApiErrorInit {
  status: number;
  code: ApiErrorCode;
  title: string;
  detail: string;
  type?: string;
  instance?: string;
  fieldErrors?: FieldViolation[];
  extensions?: Record<string, unknown>;
}

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** Stable machine code, e.g. `key_inactive`; callers branch on this, never on `detail`. */
  readonly code: ApiErrorCode;
  readonly title: string;
  /** Human-readable explanation, meant to be shown to the user as is. */
  readonly detail: string;
  readonly type: string;
  readonly instance: string | undefined;
  readonly fieldErrors: FieldViolation[];
  /** The problem's other members (e.g. `faces` of a 422 `multiple_faces`), as sent. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(init: ApiErrorInit) {
    super(init.detail);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type ?? "about:blank";
    this.instance = init.instance;
    this.fieldErrors = init.fieldErrors ?? [];
    this.extensions = init.extensions ?? {};
  }

  /** The server's message about one input field, if it named that field. */
  fieldMessage(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field)?.message;
  }
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function fieldViolations(v: unknown): FieldViolation[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((e: { field?: unknown; message?: unknown }) => {
    const field = text(e?.field);
    const message = text(e?.message);
    return field !== undefined && message !== undefined ? [{ field, message }] : [];
  });
}

/** Used when a response is not problem+json (a proxy page, an endpoint this server lacks). */
function fallbackDetail(status: number, statusText: string): string {
  if (status === 404) return "This isn't available on the server (404 Not Found).";
  if (status === 401) return "Your session has ended. Please sign in again.";
  if (status === 403) return "Your role does not allow this.";
  if (status === 429) return "Too many requests. Wait a moment and try again.";
  if (status >= 500)
    return `The server failed to answer (${status}${statusText ? ` ${statusText}` : ""}). Try again shortly.`;
  return `The request failed (${status}${statusText ? ` ${statusText}` : ""}).`;
}

const fallbackCode = (status: number): ApiErrorCode =>
  status === 404 ? "not_found" : status === 401 ? "unauthenticated" : `http_${status}`;

export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: ProblemBody = {};
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const parsed: unknown = await res.json();
      if (parsed !== null && typeof parsed === "object") body = parsed as ProblemBody;
    } catch {
      // A malformed error body still yields an error from the status alone.
    }
  }
  return new ApiError({
    status: res.status,
    // As the server sent it: a newer server may send a code this build does not list yet.
    code: (text(body.code) as ApiErrorCode | undefined) ?? fallbackCode(res.status),
    title: text(body.title) ?? res.statusText ?? "Error",
    detail: text(body.detail) ?? text(body.title) ?? fallbackDetail(res.status, res.statusText),
    type: text(body.type),
    instance: text(body.instance),
    fieldErrors: fieldViolations(body.errors),
    extensions: body,
  });
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError({
    status: 0,
    code: "network_error",
    title: "Network error",
    detail: "Could not reach the server. Check your connection and try again.",
  });
  error.cause = cause;
  return error;
}

/** Any thrown value as something with a readable `detail`, for places that show errors. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError({
    status: 0,
    code: "client_error",
    title: "Unexpected error",
    detail: error instanceof Error ? error.message : String(error),
  });
}
