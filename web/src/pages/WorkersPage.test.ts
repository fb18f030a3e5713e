import { flushPromises, mount } from "@vue/test-utils";
import { createPinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { api } from "../api/instance.ts";
import type { Worker } from "../api/types.ts";
import { formatClock } from "../format/time.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import WorkersPage from "./WorkersPage.vue";

const NOW = Date.parse("2025-03-10T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

// It sent its last batch 2 s before its stream closed, 1 s ago.
const leaving: Worker = {
  workerId: "worker-001",
  keyId: "k1",
  keyName: "Production Worker 01",
  siteId: "s-1",
  cameraId: "cam-1",
  remoteAddress: "10.0.0.5",
  connectedSince: null,
  lastBatchAt: ago(3000),
  lastSeenAt: ago(1000),
  observationsPerMinute: 0,
  streamCount: 0,
  connected: false,
  disconnectReason: "key_inactive",
};

async function mountPage() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: "/workers", component: WorkersPage, meta: { title: "Workers" } }],
  });
  await router.push("/workers");
  const wrapper = mount(WorkersPage, {
    global: { plugins: [createPinia(), router] },
    attachTo: document.body,
  });
  await flushPromises();
  return wrapper;
}

beforeEach(() => {
  api.forgetSession();
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  vi.stubGlobal("fetch", createFakeFetch({ "GET /v1/workers": () => json({ workers: [leaving] }) }).fetch);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("WorkersPage", () => {
  it("counts the time since a disconnected worker's last batch instead of saying 'just now' for a minute", async () => {
    const wrapper = await mountPage();
    const row = () => wrapper.get("tbody tr");
    expect(row().text()).toContain("just now");

    await vi.advanceTimersByTimeAsync(40_000);
    expect(row().text()).toContain("43 seconds ago");
    expect(row().text()).not.toContain("just now");
    wrapper.unmount();
  });

  it("says why and since when a worker is disconnected", async () => {
    const wrapper = await mountPage();
    expect(wrapper.get("h1").text()).toBe("Workers");
    const since = wrapper.get("tbody tr time.since");
    expect(wrapper.get("tbody tr").text()).toContain("disconnected");
    expect(since.text()).toBe(`key deactivated · since ${formatClock(NOW - 1000)}`);
    expect(since.attributes("datetime")).toBe(leaving.lastSeenAt);
    expect(since.attributes("title")).toContain("Ended with key_inactive.");
    expect(since.attributes("title")).toContain("just now");
    wrapper.unmount();
  });
});
