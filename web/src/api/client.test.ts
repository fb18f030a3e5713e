import { describe, expect, it, vi } from "vitest";
import { createFakeFetch, json, problem, session } from "../testing/fakeFetch.ts";
import { createApiClient } from "./client.ts";
import { ApiError } from "./errors.ts";

describe("problem+json errors", () => {
  it("become an ApiError carrying the server's status, code, detail and field errors", async () => {
    const { fetch } = createFakeFetch({
      "POST /v1/api-keys": () =>
        problem(400, "expiration_in_past", "expiresAt must be in the future", {
          instance: "/v1/api-keys",
          errors: [{ field: "expiresAt", message: "must be in the future" }],
        }),
    });
    const api = createApiClient({ fetch });
    const error = await api.post("/v1/api-keys", { name: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    expect(e.status).toBe(400);
    expect(e.code).toBe("expiration_in_past");
    expect(e.detail).toBe("expiresAt must be in the future");
    expect(e.message).toBe(e.detail);
    expect(e.instance).toBe("/v1/api-keys");
    expect(e.fieldMessage("expiresAt")).toBe("must be in the future");
  });

  it("fall back to a readable message when the body is not problem+json", async () => {
    const api = createApiClient({
      fetch: async () => new Response("Not Found", { status: 404, statusText: "Not Found" }),
    });
    const e = (await api.get("/v1/workers").catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(404);
    expect(e.code).toBe("not_found");
    expect(e.detail).toMatch(/isn't available on the server/);
  });

  it("report an unreachable server as a network error with status 0", async () => {
    const api = createApiClient({
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    const e = (await api.get("/v1/me").catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(0);
    expect(e.code).toBe("network_error");
    expect(e.detail).toMatch(/Could not reach the server/);
  });
});

describe("requests", () => {
  it("send the bearer token, JSON body and same-origin credentials, and drop empty query values", async () => {
    const calls: RequestInit[] = [];
    const { fetch, requests } = createFakeFetch({
      "POST /v1/auth/login": () => json(session("tok-1")),
      "GET /v1/events": () => json({ events: [], nextPageToken: "" }),
    });
    const api = createApiClient({
      fetch: (input, init) => {
        calls.push(init ?? {});
        return fetch(input, init);
      },
    });
    await api.signIn("admin@acme.test", "pw");
    await api.get("/v1/events", { siteId: "s-1", cameraId: "", workerId: undefined, pageSize: 25 });
    const events = requests[1]!;
    expect(events.headers.get("authorization")).toBe("Bearer tok-1");
    expect(Object.fromEntries(events.query)).toEqual({ siteId: "s-1", pageSize: "25" });
    expect(requests[0]!.body).toEqual({ email: "admin@acme.test", password: "pw" });
    expect(calls.every((c) => c.credentials === "same-origin")).toBe(true);
  });

  it("resolve 204 answers to undefined", async () => {
    const { fetch } = createFakeFetch({
      "DELETE /v1/api-keys/k1": () => new Response(null, { status: 204 }),
    });
    await expect(createApiClient({ fetch }).delete("/v1/api-keys/k1")).resolves.toBeUndefined();
  });
});

describe("401 handling", () => {
  it("refreshes the session once and retries the call with the new token", async () => {
    const { fetch, requests } = createFakeFetch({
      "POST /v1/auth/refresh": () => json(session("fresh")),
      "GET /v1/api-keys": (req) =>
        req.headers.get("authorization") === "Bearer fresh"
          ? json({ apiKeys: [], nextPageToken: "" })
          : problem(401, "unauthenticated", "token expired"),
    });
    const api = createApiClient({ fetch });
    const users: unknown[] = [];
    api.onSessionChange((u) => users.push(u?.email ?? null));

    await expect(api.get("/v1/api-keys")).resolves.toEqual({ apiKeys: [], nextPageToken: "" });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v1/api-keys",
      "POST /v1/auth/refresh",
      "GET /v1/api-keys",
    ]);
    expect(users).toEqual(["admin@acme.test"]);
  });

  it("signals an expired session and throws the 401 when the refresh fails too", async () => {
    const { fetch, requests } = createFakeFetch({
      "POST /v1/auth/refresh": () => problem(401, "unauthenticated", "no session"),
      "GET /v1/api-keys": () => problem(401, "unauthenticated", "token expired"),
    });
    const api = createApiClient({ fetch });
    const expired = vi.fn();
    api.onSessionExpired(expired);

    const e = (await api.get("/v1/api-keys").catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(401);
    expect(expired).toHaveBeenCalledOnce();
    expect(requests.filter((r) => r.path === "/v1/api-keys")).toHaveLength(1);
  });

  it("shares one refresh between calls that fail at the same time (the cookie rotates)", async () => {
    let refreshes = 0;
    const { fetch } = createFakeFetch({
      "POST /v1/auth/refresh": async () => {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 5));
        return json(session("fresh"));
      },
      "GET /v1/me": (req) =>
        req.headers.get("authorization") === "Bearer fresh"
          ? json({ tenantId: "t-acme", role: "admin" })
          : problem(401, "unauthenticated", "expired"),
    });
    const api = createApiClient({ fetch });
    await Promise.all([api.get("/v1/me"), api.get("/v1/me"), api.get("/v1/me")]);
    expect(refreshes).toBe(1);
  });

  it("never retries the sign-in call itself: a wrong password is just an error", async () => {
    const { fetch, requests } = createFakeFetch({
      "POST /v1/auth/login": () => problem(401, "invalid_credentials", "Wrong email or password."),
    });
    const api = createApiClient({ fetch });
    const expired = vi.fn();
    api.onSessionExpired(expired);
    await expect(api.signIn("a@b.c", "nope")).rejects.toMatchObject({ detail: "Wrong email or password." });
    expect(requests).toHaveLength(1);
    expect(expired).not.toHaveBeenCalled();
  });

  it("restores nothing (and does not throw) when there is no refresh cookie", async () => {
    const { fetch } = createFakeFetch({
      "POST /v1/auth/refresh": () => problem(401, "unauthenticated", "none"),
    });
    await expect(createApiClient({ fetch }).refresh()).resolves.toBeNull();
  });
});
