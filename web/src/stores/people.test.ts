import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/instance.ts";
import type { Person } from "../api/types.ts";
import { createFakeFetch, json } from "../testing/fakeFetch.ts";
import { usePeopleStore } from "./people.ts";
import { enrolmentForm, usePersonStore } from "./person.ts";

const person = (id: string, extra: Partial<Person> = {}): Person => ({
  id,
  displayName: `Person ${id}`,
  externalId: null,
  notes: "",
  labels: [],
  watchlist: false,
  faceCount: 0,
  createdAt: "2026-12-06T10:00:00Z",
  updatedAt: "2026-12-06T10:00:00Z",
  createdBy: "admin@localhost",
  ...extra,
});

beforeEach(() => {
  setActivePinia(createPinia());
  api.forgetSession();
});

describe("usePeopleStore", () => {
  it("sends the name prefix, label and watchlist filters and pages by token", async () => {
    const fake = createFakeFetch({
      "GET /v1/people": (req) =>
        json(
          req.query.get("pageToken") === "p2"
            ? { people: [person("2")], nextPageToken: "" }
            : { people: [person("1")], nextPageToken: "p2" },
        ),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const store = usePeopleStore();
    await store.search({ namePrefix: " Ali ", label: "staff", watchlist: true });
    const first = fake.requests[0]!.query;
    expect([first.get("namePrefix"), first.get("label"), first.get("watchlist")]).toEqual([
      "Ali",
      "staff",
      "true",
    ]);
    await store.nextPage();
    expect(store.people.map((p) => p.id)).toEqual(["2"]);
    expect(fake.requests[1]!.query.get("namePrefix")).toBe("Ali");
    await store.previousPage();
    expect(store.people.map((p) => p.id)).toEqual(["1"]);
  });

  it("asks for erasure only when told to, and treats an already deleted person as deleted", async () => {
    const fake = createFakeFetch({
      "GET /v1/people": () => json({ people: [person("1"), person("2")], nextPageToken: "" }),
      "DELETE /v1/people/1": () => new Response(null, { status: 204 }),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const store = usePeopleStore();
    await store.search({});
    await store.remove("1", { purgeSightings: true });
    expect(fake.requests.at(-1)!.query.get("purgeSightings")).toBe("true");
    await store.remove("2", { purgeSightings: false });
    expect(fake.requests.at(-1)!.query.has("purgeSightings")).toBe(false);
    expect(store.people).toEqual([]);
  });
});

describe("enrolment upload", () => {
  it("sends the photo as `image` with the chosen face as a JSON box or an index", async () => {
    const photo = new Blob(["jpeg"], { type: "image/jpeg" });
    const byBox = enrolmentForm(photo, "a.jpg", { bbox: { x: 177, y: 82, width: 95, height: 95 } });
    expect(byBox.get("bbox")).toBe('{"x":177,"y":82,"width":95,"height":95}');
    expect(byBox.get("image")).toBeInstanceOf(Blob);
    expect(enrolmentForm(photo, "a.jpg", { faceIndex: 1 }).get("faceIndex")).toBe("1");
    expect([...enrolmentForm(photo, "a.jpg").keys()]).toEqual(["image"]);
  });

  it("adds the enrolled face to the person without a reload", async () => {
    const face = { id: "f1", personId: "1", thumbnailUrl: "/v1/people/1/faces/f1/thumbnail", embeddings: [] };
    const fake = createFakeFetch({
      "GET /v1/people/1": () => json({ person: person("1") }),
      "GET /v1/people/1/faces": () => json({ faces: [] }),
      "POST /v1/people/1/faces": () => json({ face }, 201),
    });
    vi.stubGlobal("fetch", fake.fetch);
    const store = usePersonStore();
    await store.load("1");
    await store.enrol("1", new Blob(["x"], { type: "image/png" }), "p.png");
    expect(store.faces.map((f) => f.id)).toEqual(["f1"]);
    expect(store.person?.faceCount).toBe(1);
    expect(fake.requests.at(-1)!.headers.get("content-type")).toBeNull();
  });
});
