import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it, vi } from "vitest";
import type { WebhookDelivery } from "../stores/webhooks.ts";
import WebhookDeliveries from "./WebhookDeliveries.vue";

const delivery = (id: string, over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id,
  webhookId: "w1",
  eventId: `evt_${id}`,
  eventType: "sighting.started",
  status: "succeeded",
  attempts: 1,
  createdAt: new Date().toISOString(),
  lastAttemptAt: new Date().toISOString(),
  lastStatusCode: 200,
  lastResponseExcerpt: "ok",
  nextAttemptAt: null,
  ...over,
});

describe("WebhookDeliveries", () => {
  it("shows each delivery's status, attempts, last answer and next attempt, and pages on", async () => {
    const load = vi.fn(async (_id: string, pageToken = "") =>
      pageToken
        ? { deliveries: [delivery("old", { eventType: "api_key.expiring" })], nextPageToken: "" }
        : {
            deliveries: [
              delivery("retrying", {
                status: "pending",
                attempts: 3,
                lastStatusCode: 500,
                lastResponseExcerpt: "Internal Server Error",
                nextAttemptAt: new Date(Date.now() + 120_000).toISOString(),
              }),
              delivery("failed", {
                status: "failed",
                attempts: 30,
                lastStatusCode: null,
                lastResponseExcerpt: "no answer: timeout",
              }),
              delivery("done"),
            ],
            nextPageToken: "p2",
          },
    );
    const wrapper = mount(WebhookDeliveries, { props: { webhookId: "w1", load }, attachTo: document.body });
    await flushPromises();
    const rows = wrapper.findAll("tbody tr");
    expect(rows).toHaveLength(3);
    expect(rows[0]!.text()).toContain("Retrying");
    expect(rows[0]!.text()).toContain("500");
    expect(rows[0]!.text()).toContain("Internal Server Error");
    expect(rows[0]!.text()).toContain("in 2 minutes");
    expect(rows[1]!.text()).toContain("Failed");
    expect(rows[1]!.text()).toContain("no answer: timeout");
    expect(rows[2]!.text()).toContain("Delivered");
    const more = wrapper.findAll("button").find((b) => b.text().includes("Load older deliveries"))!;
    await more.trigger("click");
    await flushPromises();
    expect(load).toHaveBeenLastCalledWith("w1", "p2");
    expect(wrapper.findAll("tbody tr")).toHaveLength(4);
    expect(wrapper.text()).not.toContain("Load older deliveries");
    wrapper.unmount();
  });
});
