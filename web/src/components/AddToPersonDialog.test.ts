import { flushPromises, mount } from "@vue/test-utils";
import { createPinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { Person, PersonFace } from "../api/types.ts";
import { createFakeFetch, json, problem } from "../testing/fakeFetch.ts";
import { person, personFace, sighting } from "../testing/fixtures.ts";
import AddToPersonDialog from "./AddToPersonDialog.vue";

const unknown = sighting("2025031011-sighting000000000000000", { trackId: 7 });
const alice = person("p-alice", { displayName: "Alice" });

function mountDialog(routes: Parameters<typeof createFakeFetch>[0]) {
  const fake = createFakeFetch({
    "GET /v1/people": () => json({ people: [alice], nextPageToken: "" }),
    ...routes,
  });
  vi.stubGlobal("fetch", fake.fetch);
  const wrapper = mount(AddToPersonDialog, {
    props: { sighting: unknown },
    global: { plugins: [createPinia()] },
    attachTo: document.body,
  });
  return { fake, wrapper };
}

const addButton = () =>
  [...document.querySelectorAll("button")].find((b) => b.textContent?.includes("Add to Alice"))!;

beforeEach(() => {
  api.forgetSession();
  document.body.innerHTML = "";
});

describe("AddToPersonDialog", () => {
  it("enrols the sighting's best event by its id, as JSON, instead of uploading its thumbnail as a photo", async () => {
    const { fake, wrapper } = mountDialog({
      "POST /v1/people/p-alice/faces": () =>
        json({ face: personFace("f-1", "p-alice", { eventId: unknown.bestEventId }) }, 201),
    });
    await flushPromises();
    addButton().click();
    await flushPromises();

    const enrolment = fake.requests.find((r) => r.method === "POST")!;
    expect(enrolment.path).toBe("/v1/people/p-alice/faces");
    expect(enrolment.headers.get("content-type")).toContain("application/json");
    expect(enrolment.body).toEqual({ eventId: unknown.bestEventId });
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    const [enrolledPerson, face] = wrapper.emitted<[Person, PersonFace]>("enrolled")![0]!;
    expect(enrolledPerson.id).toBe("p-alice");
    expect(face.eventId).toBe(unknown.bestEventId);
    wrapper.unmount();
  });

  it("says why when the event cannot be enrolled", async () => {
    const { wrapper } = mountDialog({
      "POST /v1/people/p-alice/faces": () =>
        problem(
          422,
          "event_without_thumbnail",
          "event … has no thumbnail: its crop is what an enrolled face keeps",
        ),
    });
    await flushPromises();
    addButton().click();
    await flushPromises();
    expect(document.body.textContent).toContain("has no thumbnail");
    expect(wrapper.emitted("enrolled")).toBeUndefined();
    wrapper.unmount();
  });
});
