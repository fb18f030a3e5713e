import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import { createFakeFetch, json, problem, session } from "../testing/fakeFetch.ts";
import { useAuthStore } from "./auth.ts";

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
  // The gateway's script-readable marker that a refresh cookie exists.
  // biome-ignore lint/suspicious/noDocumentCookie: the store reads document.cookie, so the test sets it the same way
  document.cookie = "facerec_session=1; path=/";
});

describe("useAuthStore", () => {
  it("restores the session from the refresh cookie on load, once", async () => {
    const fake = createFakeFetch({ "POST /v1/auth/refresh": () => json(session("t1")) });
    vi.stubGlobal("fetch", fake.fetch);
    const auth = useAuthStore();
    await Promise.all([auth.restore(), auth.restore()]);
    expect(auth.user?.email).toBe("admin@acme.test");
    expect(auth.isAdmin).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it("makes no request at all when the session marker cookie is absent", async () => {
    // biome-ignore lint/suspicious/noDocumentCookie: as above, the store reads document.cookie
    document.cookie = "facerec_session=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
    const fake = createFakeFetch({ "POST /v1/auth/refresh": () => json(session("t1")) });
    vi.stubGlobal("fetch", fake.fetch);
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.user).toBeNull();
    expect(fake.requests).toHaveLength(0);
  });

  it("stays signed out when the server has no session", async () => {
    vi.stubGlobal(
      "fetch",
      createFakeFetch({ "POST /v1/auth/refresh": () => problem(401, "unauthenticated", "none") }).fetch,
    );
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.user).toBeNull();
  });

  it("signs in and out, and then sends no token", async () => {
    const fake = createFakeFetch({
      "POST /v1/auth/login": () =>
        json({ ...session("t1"), user: { ...session("t1").user, role: "viewer" } }),
      "POST /v1/auth/logout": () => new Response(null, { status: 204 }),
      "GET /v1/me": () => problem(401, "unauthenticated", "no token"),
      "POST /v1/auth/refresh": () => problem(401, "unauthenticated", "none"),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const auth = useAuthStore();
    await auth.signIn("viewer@acme.test", "pw");
    expect(auth.user?.role).toBe("viewer");
    expect(auth.isAdmin).toBe(false);
    await auth.signOut();
    expect(auth.user).toBeNull();
    await api.get("/v1/me").catch(() => undefined);
    expect(fake.requests.at(-2)!.headers.get("authorization")).toBeNull();
  });
});

describe("sessionEnded (the sign-in page's 'continue where you left off')", () => {
  beforeEach(() => {
    localStorage.clear();
  });

  it("is false on a first visit, true once a session this browser had is gone, false after signing out", async () => {
    const fake = createFakeFetch({
      "POST /v1/auth/login": () => json(session("t1")),
      "POST /v1/auth/refresh": () => problem(401, "invalid_refresh_token", "no session; sign in"),
      "POST /v1/auth/logout": () => new Response(null, { status: 204 }),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const auth = useAuthStore();
    await auth.restore();
    expect(auth.sessionEnded()).toBe(false);

    await auth.signIn("admin@acme.test", "pw");
    expect(auth.sessionEnded()).toBe(false);
    api.forgetSession(); // the session ends without a sign-out (expired, ended elsewhere)
    expect(auth.sessionEnded()).toBe(true);

    await auth.signIn("admin@acme.test", "pw");
    await auth.signOut();
    expect(auth.sessionEnded()).toBe(false);
  });
});
