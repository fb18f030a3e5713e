import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import type { ResourceState } from "../composables/useResource.ts";
import ResourceTable from "./ResourceTable.vue";

interface Row {
  id: string;
  name: string;
}
const columns = [{ key: "name", title: "Name" }];

function mountTable(resource: ResourceState, data: Row[] = []) {
  return mount(ResourceTable<Row>, {
    props: { resource, what: "Workers", columns, data, rowKey: (r: Row) => r.id },
    slots: {
      empty: "<p class='empty-title'>No workers seen recently</p>",
      toolbar: "<div class='tools'>T</div>",
    },
  });
}

const unavailable = new ApiError({
  status: 503,
  code: "service_unavailable",
  title: "Unavailable",
  detail: "Ingest is down.",
});

describe("ResourceTable", () => {
  it("says it is loading until the first answer", async () => {
    const wrapper = mountTable({ loading: true, loaded: false, error: null });
    await flushPromises();
    expect(wrapper.find(".table-empty").text()).toBe("Loading workers…");
    expect(wrapper.find(".tools").exists()).toBe(true);
  });

  it("shows the page's empty state once loaded with no rows, and the rows otherwise", async () => {
    const wrapper = mountTable({ loading: false, loaded: true, error: null });
    await flushPromises();
    expect(wrapper.find(".table-empty").text()).toBe("No workers seen recently");
    await wrapper.setProps({ data: [{ id: "1", name: "worker-001" }] });
    expect(wrapper.find(".table-empty").exists()).toBe(false);
    expect(wrapper.find("tbody").text()).toContain("worker-001");
  });

  it("puts a failed load's detail in a banner with Try again, and says there is nothing to show", async () => {
    const wrapper = mountTable({ loading: false, loaded: false, error: unavailable });
    await flushPromises();
    expect(wrapper.text()).toContain("Could not load workers");
    expect(wrapper.text()).toContain("Ingest is down.");
    expect(wrapper.find(".table-empty").text()).toBe("Nothing to show.");
    const retry = wrapper.findAll("button").find((b) => b.text() === "Try again")!;
    await retry.trigger("click");
    expect(wrapper.emitted("retry")).toHaveLength(1);
  });

  it("explains a missing endpoint instead of reporting an error", async () => {
    const missing = new ApiError({ status: 404, code: "not_found", title: "Not Found", detail: "Not Found" });
    const wrapper = mountTable({ loading: false, loaded: false, error: missing });
    await flushPromises();
    expect(wrapper.text()).toContain("Workers are not available on this server yet");
    expect(wrapper.text()).not.toContain("Try again");
  });
});
