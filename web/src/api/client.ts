/**
 * The one typed client of the gateway's REST /v1 API.
 *
 * The access token lives only in this closure (never in storage, so injected scripts
 * cannot lift it from localStorage); the HttpOnly refresh cookie keeps the session
 * across reloads. A 401 on any call triggers one refresh and one retry; when the
 * refresh fails too, session-expired listeners run (the router sends the user to sign-in).
 */
import { errorFromResponse, networkError } from "./errors.ts";
import type { Session, User } from "./types.ts";

export type Query = Record<string, string | number | undefined>;

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Prefix of every path; "" for the same origin as the dashboard. */
  baseUrl?: string;
}

export interface ApiClient {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  delete(path: string, query?: Query): Promise<void>;
  /** A multipart/form-data POST (photo uploads). */
  upload<T>(path: string, form: FormData): Promise<T>;
  /**
   * An open streaming response (Server-Sent Events) with the bearer token, which EventSource
   * cannot send; the caller reads `body` and aborts through `signal`. Non-2xx answers throw.
   */
  stream(path: string, signal: AbortSignal): Promise<Response>;
  /** A binary resource (thumbnails), fetched with the bearer token an <img src> cannot carry. */
  blob(path: string): Promise<Blob>;
  /** `tenantId` only when the server answered `tenant_required` (the same email and password in several tenants). */
  signIn(email: string, password: string, tenantId?: string): Promise<User>;
  /** Exchanges the refresh cookie for a new access token; null when there is no session. */
  refresh(): Promise<User | null>;
  signOut(): Promise<void>;
  /** Drops the access token held in memory. */
  forgetSession(): void;
  onSessionChange(listener: (user: User | null) => void): () => void;
  onSessionExpired(listener: () => void): () => void;
}

const AUTH_PATHS = new Set(["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"]);

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  // Looked up per call so that tests (and polyfills) can replace the global later.
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseUrl = options.baseUrl ?? "";
  let accessToken: string | null = null;
  let refreshing: Promise<User | null> | null = null;
  const sessionListeners = new Set<(user: User | null) => void>();
  const expiredListeners = new Set<() => void>();

  function setSession(session: Session | null): User | null {
    accessToken = session?.accessToken ?? null;
    const user = session?.user ?? null;
    for (const listener of sessionListeners) listener(user);
    return user;
  }

  async function send(
    method: string,
    path: string,
    body: unknown,
    accept: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept };
    // FormData sets its own multipart Content-Type (with the boundary).
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    if (accessToken) headers["Authorization"] = `Bearer ${accessToken}`;
    try {
      return await doFetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : form ? body : JSON.stringify(body),
        credentials: "same-origin",
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      throw networkError(cause);
    }
  }

  async function refreshOnce(): Promise<User | null> {
    const res = await send("POST", "/v1/auth/refresh", undefined, "application/json");
    if (res.ok) return setSession((await res.json()) as Session);
    if (res.status === 401) {
      setSession(null);
      return null;
    }
    throw await errorFromResponse(res);
  }

  function refresh(): Promise<User | null> {
    // Concurrent 401s share one refresh: the cookie rotates, so a second refresh would fail.
    refreshing ??= refreshOnce().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** Sends once, and on 401 refreshes the session and sends once more. */
  async function authorized(
    method: string,
    path: string,
    body: unknown,
    accept: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const tokenUsed = accessToken;
    const res = await send(method, path, body, accept, signal);
    if (res.status !== 401 || AUTH_PATHS.has(path)) return res;
    // Another call may have refreshed while this one was in flight: just retry with its token.
    const renewed = accessToken !== null && accessToken !== tokenUsed ? true : (await refresh()) !== null;
    if (renewed) {
      const retry = await send(method, path, body, accept, signal);
      if (retry.status !== 401) return retry;
    }
    setSession(null);
    for (const listener of expiredListeners) listener();
    return res;
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await authorized(method, path, body, "application/json");
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  return {
    get: (path, query) => json("GET", withQuery(path, query)),
    post: (path, body) => json("POST", path, body),
    patch: (path, body) => json("PATCH", path, body),
    put: (path, body) => json("PUT", path, body),
    delete: (path, query) => json<void>("DELETE", withQuery(path, query)),
    upload: (path, form) => json("POST", path, form),
    async stream(path, signal) {
      const res = await authorized("GET", path, undefined, "text/event-stream", signal);
      if (!res.ok) throw await errorFromResponse(res);
      return res;
    },
    async blob(path) {
      const res = await authorized("GET", path, undefined, "image/*");
      if (!res.ok) throw await errorFromResponse(res);
      return res.blob();
    },
    async signIn(email, password, tenantId) {
      const body = { email, password, ...(tenantId ? { tenantId } : {}) };
      const res = await send("POST", "/v1/auth/login", body, "application/json");
      if (!res.ok) throw await errorFromResponse(res);
      return setSession((await res.json()) as Session) as User;
    },
    refresh,
    async signOut() {
      try {
        const res = await send("POST", "/v1/auth/logout", undefined, "application/json");
        if (!res.ok && res.status !== 401) throw await errorFromResponse(res);
      } finally {
        setSession(null);
      }
    },
    forgetSession: () => {
      setSession(null);
    },
    onSessionChange(listener) {
      sessionListeners.add(listener);
      return () => sessionListeners.delete(listener);
    },
    onSessionExpired(listener) {
      expiredListeners.add(listener);
      return () => expiredListeners.delete(listener);
    },
  };
}
