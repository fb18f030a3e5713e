import { flushPromises, mount } from "@vue/test-utils";
import { NDialogProvider, NMessageProvider } from "naive-ui";
import { createPinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";
import { api } from "../api/instance.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { person, sighting } from "../testing/fixtures.ts";
import PeoplePage from "./PeoplePage.vue";

const NOW = Date.parse("2025-03-10T12:00:00Z");

const seen = person("p-seen", {
  displayName: "Seen Lately",
  lastSighting: sighting("2025031011-seen00000000000000000000", {
    personId: "p-seen",
    personName: "Seen Lately",
    siteId: "site-hq",
    cameraId: "cam-door",
    lastSeenAt: new Date(NOW - 5 * 60_000).toISOString(),
  }),
});
const never = person("p-never", { displayName: "Never Seen", lastSighting: null });
/** Listed while ingest could not say: no lastSighting at all. */
const unknown = person("p-unknown", { displayName: "Unknown Yet" });

beforeEach(() => {
  api.forgetSession();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  vi.stubGlobal(
    "fetch",
    createFakeFetch({ "GET /v1/people": () => json({ people: [seen, never, unknown], nextPageToken: "" }) })
      .fetch,
  );
});
afterEach(() => {
  vi.useRealTimers();
});

describe("PeoplePage", () => {
  it("says where and when each person was last seen, from the list itself", async () => {
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: "/people", component: PeoplePage },
        { path: "/people/:id", name: "person", component: {} },
      ],
    });
    await router.push("/people");
    // The page asks for the dashboard's message and dialog providers, as App.vue gives them.
    const withProviders = defineComponent({
      render: () => h(NMessageProvider, () => h(NDialogProvider, () => h(PeoplePage))),
    });
    const wrapper = mount(withProviders, {
      global: { plugins: [createPinia(), router] },
      attachTo: document.body,
    });
    await flushPromises();
    const rows = wrapper.findAll("tbody tr");
    const row = (name: string) => rows.find((r) => r.text().includes(name))!;
    expect(row("Seen Lately").text()).toContain("site-hq / cam-door");
    expect(row("Seen Lately").text()).toContain("5 minutes ago");
    expect(row("Never Seen").text()).toContain("Not yet");
    expect(row("Unknown Yet").text()).not.toContain("Not yet");
    wrapper.unmount();
  });
});
