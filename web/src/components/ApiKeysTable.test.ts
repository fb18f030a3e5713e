import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiKey } from "../api/types.ts";
import ApiKeysTable from "./ApiKeysTable.vue";

const HOUR = 3600_000;
const key = (id: string, over: Partial<ApiKey> = {}): ApiKey => ({
  id,
  name: `Worker ${id}`,
  role: "worker",
  prefix: `frk_${id.padEnd(12, "x")}`,
  active: true,
  status: "active",
  expiresAt: null,
  expiresSoon: false,
  lastUsedAt: null,
  lastUsedBy: null,
  rotatedAt: null,
  previousSecretExpiresAt: null,
  allowedSiteIds: [],
  allowedWorkerIds: [],
  allowedCidrs: [],
  stale: false,
  createdAt: "2025-01-01T00:00:00Z",
  createdBy: "u-1",
  ...over,
});
const loaded = { loading: false, loaded: true, error: null };

function mountTable(keys: ApiKey[], over: { canManage?: boolean; compact?: boolean } = {}) {
  return mount(ApiKeysTable, {
    props: {
      resource: loaded,
      keys,
      canManage: over.canManage ?? true,
      pendingIds: new Set<string>(),
      compact: over.compact ?? false,
    },
    attachTo: document.body,
  });
}

const rowOf = (wrapper: ReturnType<typeof mountTable>, name: string) =>
  wrapper.findAll("tbody tr").find((tr) => tr.text().includes(name))!;

afterEach(() => {
  document.body.innerHTML = "";
});

describe("ApiKeysTable", () => {
  it("shows the whole prefix, with no ellipsis that reads as cut short", async () => {
    const wrapper = mountTable([key("Ru02iEUUgeYU")]);
    await flushPromises();
    expect(wrapper.get("code.key-prefix").text()).toBe("frk_Ru02iEUUgeYU");
    wrapper.unmount();
  });

  it("offers Extend… instead of an active switch left on beside 'expired'", async () => {
    const expired = key("old", {
      status: "expired",
      expiresAt: new Date(Date.now() - 24 * HOUR).toISOString(),
    });
    // Active by the server's word when listed, expired since: the page corrects it the same way.
    const lapsed = key("lapsed", { expiresAt: new Date(Date.now() - HOUR).toISOString() });
    const wrapper = mountTable([key("live"), expired, lapsed]);
    await flushPromises();

    const live = rowOf(wrapper, "Worker live");
    expect(live.find('[role="switch"]').exists()).toBe(true);
    expect(live.text()).not.toContain("Extend");

    for (const name of ["Worker old", "Worker lapsed"]) {
      const row = rowOf(wrapper, name);
      expect(row.text()).toContain("expired");
      expect(row.find('[role="switch"]').exists(), name).toBe(false);
      await row.get(`button[aria-label="Extend ${name}"]`).trigger("click");
    }
    expect(wrapper.emitted("edit")!.map(([k]) => (k as ApiKey).id)).toEqual(["old", "lapsed"]);
    wrapper.unmount();
  });

  it("shows a key in rotation with when its old secret ends, and its limits", async () => {
    const ends = new Date(Date.now() + 20 * HOUR + 600_000).toISOString();
    const rotating = key("rot", {
      rotatedAt: new Date().toISOString(),
      previousSecretExpiresAt: ends,
      allowedSiteIds: ["s-1", "s-2"],
      allowedCidrs: ["10.20.0.0/16"],
    });
    const wrapper = mountTable([rotating, key("plain")]);
    await flushPromises();
    const row = rowOf(wrapper, "Worker rot");
    expect(row.get(".rotating").text()).toMatch(/^Rotating: old secret works until .+ \(in 20 hours\)$/);
    expect(row.get(".key-limits").text()).toBe("sites s-1, s-2 · from 10.20.0.0/16");
    const plain = rowOf(wrapper, "Worker plain");
    expect(plain.find(".rotating").exists()).toBe(false);
    expect(plain.find(".key-limits").exists()).toBe(false);
    wrapper.unmount();
  });

  it("flags active keys that expire within 7 days, by the page's clock", async () => {
    const soon = key("soon", { expiresAt: new Date(Date.now() + 3 * 24 * HOUR + HOUR).toISOString() });
    const later = key("later", { expiresAt: new Date(Date.now() + 8 * 24 * HOUR).toISOString() });
    const off = key("off", { active: false, status: "inactive", expiresAt: soon.expiresAt });
    const wrapper = mountTable([soon, later, off]);
    await flushPromises();
    expect(rowOf(wrapper, "Worker soon").get(".expires-soon").text()).toBe("in 3 days");
    expect(rowOf(wrapper, "Worker later").find(".expires-soon").exists()).toBe(false);
    expect(rowOf(wrapper, "Worker off").find(".expires-soon").exists()).toBe(false);
    wrapper.unmount();
  });

  it("opens a key's details from its name, and flags a key unused for 30 days", async () => {
    const wrapper = mountTable([key("idle", { stale: true }), key("busy")], { canManage: false });
    await flushPromises();
    expect(rowOf(wrapper, "Worker idle").get(".stale").text()).toBe("unused 30+ days");
    expect(rowOf(wrapper, "Worker busy").find(".stale").exists()).toBe(false);
    await rowOf(wrapper, "Worker busy").get("button.key-name").trigger("click");
    expect(wrapper.emitted("details")![0]![0]).toMatchObject({ id: "busy" });
    wrapper.unmount();
  });

  it("shows viewers the status alone, also for an expired key", async () => {
    const expired = key("old", { status: "expired", expiresAt: "2025-02-01T00:00:00Z" });
    const wrapper = mountTable([expired], { canManage: false });
    await flushPromises();
    expect(wrapper.find('[role="switch"]').exists()).toBe(false);
    expect(wrapper.text()).not.toContain("Extend");
    expect(wrapper.text()).toContain("expired");
    wrapper.unmount();
  });

  it("shows the page's empty state once loaded, and the loading line before", async () => {
    const wrapper = mount(ApiKeysTable, {
      props: {
        resource: { loading: true, loaded: false, error: null },
        keys: [],
        canManage: true,
        pendingIds: new Set<string>(),
        compact: false,
      },
      slots: { empty: "<p>No API keys yet</p>" },
    });
    await flushPromises();
    expect(wrapper.text()).toContain("Loading API keys…");
    await wrapper.setProps({ resource: loaded });
    expect(wrapper.text()).toContain("No API keys yet");
    wrapper.unmount();
  });
});
