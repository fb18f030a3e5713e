import { flushPromises, mount } from "@vue/test-utils";
import { createPinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { api } from "../api/instance.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { person } from "../testing/fixtures.ts";
import FindSimilarDialog from "./FindSimilarDialog.vue";

const EVENT = `2025031011-${"B".repeat(22)}`;

beforeEach(() => {
  api.forgetSession();
  document.body.innerHTML = "";
});

describe("FindSimilarDialog", () => {
  it("searches by a sighting's event id (its stored embedding), and lists the people found", async () => {
    const fake = createFakeFetch({
      "POST /v1/faces/search": () =>
        json({
          searchedFace: null,
          eventId: EVENT,
          model: "dlib/resnet-v1-128",
          gallerySize: 4,
          matches: [
            { person: person("p-1", { displayName: "Davis King" }), similarity: 0.9312, faceId: "f-1" },
          ],
        }),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: "/people/:id", name: "person", component: {} },
        { path: "/", component: {} },
      ],
    });
    const wrapper = mount(FindSimilarDialog, {
      props: { source: { eventId: EVENT }, title: "Faces similar to this one" },
      global: { plugins: [createPinia(), router] },
      attachTo: document.body,
    });
    await flushPromises();
    const search = fake.requests.find((r) => r.path === "/v1/faces/search")!;
    expect(search.body).toEqual({ eventId: EVENT, maxResults: 10 });
    expect(document.body.textContent).toContain("Davis King");
    expect(document.body.textContent).toContain("0.931");
    expect(document.body.textContent).toContain("Compared with 4 enrolled faces");
    wrapper.unmount();
  });
});
