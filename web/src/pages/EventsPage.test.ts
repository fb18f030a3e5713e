import { flushPromises, mount } from "@vue/test-utils";
import { createPinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { api } from "../api/instance.ts";
import type { FaceEvent } from "../api/types.ts";
import { formatClock, formatDate, formatExact } from "../format/time.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { faceEvent } from "../testing/fixtures.ts";
import EventsPage from "./EventsPage.vue";

const CAPTURED = "2025-03-10T11:55:00Z";
const observation = (id: string, over: Partial<FaceEvent>): FaceEvent =>
  faceEvent(id, {
    capturedAt: CAPTURED,
    detScore: 0.91,
    model: "dlib/resnet",
    embeddingDim: 128,
    trackId: "17",
    thumbnailUrl: null,
    ...over,
  });

async function mountPage() {
  vi.stubGlobal(
    "fetch",
    createFakeFetch({
      "GET /v1/events": () =>
        json({
          events: [observation("tracked", {}), observation("basic", { quality: 0, trackId: "0" })],
          nextPageToken: "",
        }),
    }).fetch,
  );
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: "/events", component: EventsPage }],
  });
  await router.push("/events");
  const wrapper = mount(EventsPage, {
    global: { plugins: [createPinia(), router] },
    attachTo: document.body,
  });
  await flushPromises();
  return wrapper;
}

const cells = (wrapper: Awaited<ReturnType<typeof mountPage>>, row: number) =>
  wrapper
    .findAll("tbody tr")
    [row]!.findAll("td")
    .map((td) => td.text());

beforeEach(() => {
  api.forgetSession();
  localStorage.clear();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.parse("2025-03-10T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = "";
});

describe("EventsPage", () => {
  it("shows — for the track and quality a worker in basic mode does not compute", async () => {
    const wrapper = await mountPage();
    const headers = wrapper.findAll("thead th").map((th) => th.text());
    const track = headers.indexOf("Track");
    const quality = headers.indexOf("Quality");
    expect([cells(wrapper, 0)[track], cells(wrapper, 0)[quality]]).toEqual(["17", "0.80"]);
    expect([cells(wrapper, 1)[track], cells(wrapper, 1)[quality]]).toEqual(["—", "—"]);
    expect(wrapper.findAll("tbody tr")[1]!.find("span[title^='Not computed']").exists()).toBe(true);
    wrapper.unmount();
  });

  it("shows capture times relative with the exact time on hover, or exact as chosen, and remembers it", async () => {
    const wrapper = await mountPage();
    const time = () => wrapper.findAll("tbody tr")[0]!.get("time");
    expect(time().text()).toBe("5 minutes ago");
    expect(time().attributes("title")).toBe(formatExact(CAPTURED));

    await wrapper
      .findAll("input[type=radio]")
      .find((r) => r.attributes("value") === "exact")!
      .setValue(true);
    const exact = `${formatDate(CAPTURED)}${formatClock(Date.parse(CAPTURED))}`;
    expect(time().text()).toBe(exact);
    expect(time().find("br").exists()).toBe(true);
    expect(time().attributes("title")).toBe("5 minutes ago");
    expect(localStorage.getItem("facerec.events.times")).toBe("exact");
    wrapper.unmount();

    const again = await mountPage();
    expect(again.findAll("tbody tr")[0]!.get("time").text()).toBe(exact);
    again.unmount();
  });
});
