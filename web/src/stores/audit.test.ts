import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { AuditEvent } from "../api/types.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { useAuditStore } from "./audit.ts";

const entry = (id: string): AuditEvent => ({
  id,
  tenantId: "t-acme",
  action: "api_key.created",
  actor: {
    actorId: "u-1",
    actorType: "user",
    displayName: "admin@acme.test",
    remoteAddress: "::1",
    userAgent: "",
  },
  targetType: "api_key",
  targetId: "k1",
  changes: [],
  occurredAt: "2025-01-01T00:00:00Z",
});

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("useAuditStore", () => {
  it("appends older pages and stops when there is no next token", async () => {
    vi.stubGlobal(
      "fetch",
      createFakeFetch({
        "GET /v1/audit-events": (req) =>
          req.query.get("pageToken") === "older"
            ? json({ auditEvents: [entry("2")], nextPageToken: "" })
            : json({ auditEvents: [entry("1")], nextPageToken: "older" }),
      }).fetch,
    );
    const store = useAuditStore();
    await store.load();
    await store.loadMore();
    expect(store.events.map((e) => e.id)).toEqual(["1", "2"]);
    expect(store.nextPageToken).toBe("");
  });
});
