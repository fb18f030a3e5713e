import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import WebhookCreateForm from "./WebhookCreateForm.vue";

function mountForm(error: ApiError | null = null) {
  return mount(WebhookCreateForm, { props: { submitting: false, error }, attachTo: document.body });
}

async function submit(wrapper: ReturnType<typeof mountForm>) {
  await wrapper.find("form").trigger("submit");
  await flushPromises();
}

describe("WebhookCreateForm", () => {
  it("refuses an empty or relative URL and sends nothing", async () => {
    const wrapper = mountForm();
    await submit(wrapper);
    expect(wrapper.text()).toContain("Enter the URL the platform should POST events to.");
    await wrapper.get("input#webhook-url").setValue("hooks.example.com/facerec");
    await submit(wrapper);
    expect(wrapper.text()).toContain("Enter an absolute URL starting with https://.");
    expect(wrapper.emitted("submit")).toBeUndefined();
    wrapper.unmount();
  });

  it("sends the URL and events, watchlistOnly only with sightings", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#webhook-url").setValue("  https://hooks.example.com/facerec ");
    await wrapper.get('[role="switch"]').trigger("click");
    await submit(wrapper);
    expect(wrapper.emitted("submit")?.[0]).toEqual([
      { url: "https://hooks.example.com/facerec", eventTypes: ["sighting.started"], watchlistOnly: true },
    ]);
    // Unticking sightings for key expiry only: the watchlist switch goes with it.
    const boxes = wrapper.findAll('[role="checkbox"]');
    await boxes[0]!.trigger("click");
    await boxes[1]!.trigger("click");
    expect(wrapper.find('[role="switch"]').exists()).toBe(false);
    await submit(wrapper);
    expect(wrapper.emitted("submit")?.[1]).toEqual([
      { url: "https://hooks.example.com/facerec", eventTypes: ["api_key.expiring"] },
    ]);
    wrapper.unmount();
  });

  it("refuses a webhook with no events", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#webhook-url").setValue("https://hooks.example.com/");
    await wrapper.findAll('[role="checkbox"]')[0]!.trigger("click");
    await submit(wrapper);
    expect(wrapper.text()).toContain("Pick at least one event.");
    expect(wrapper.emitted("submit")).toBeUndefined();
    wrapper.unmount();
  });

  it("shows the server's URL refusal under the URL field", () => {
    const error = new ApiError({
      status: 422,
      code: "webhook_url_not_allowed",
      title: "Unprocessable Content",
      detail: "the host intranet.example resolves to 10.0.0.5, which is not a public address",
    });
    const wrapper = mountForm(error);
    expect(wrapper.text()).toContain("resolves to 10.0.0.5");
    expect(wrapper.find(".server-error").exists()).toBe(false);
    wrapper.unmount();
  });
});
