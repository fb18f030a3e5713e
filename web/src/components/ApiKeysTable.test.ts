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
  lastUsedAt: null,
  lastUsedBy: null,
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
