import { enableAutoUnmount, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatExact } from "../format/time.ts";
import RelativeTime from "./RelativeTime.vue";

const NOW = Date.parse("2025-03-10T12:00:00Z");

// Unmounting releases the shared clock, so each test starts its own under its fake timers.
enableAutoUnmount(afterEach);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RelativeTime (the Last Used column)", () => {
  it('says "Never" for a key that was never used', () => {
    const wrapper = mount(RelativeTime, { props: { value: null } });
    expect(wrapper.text()).toBe("Never");
    expect(wrapper.find("time").exists()).toBe(false);
  });

  it("shows how long ago, with the exact timestamp on hover", () => {
    const iso = "2025-03-10T11:55:00Z";
    const wrapper = mount(RelativeTime, { props: { value: iso } });
    const time = wrapper.get("time");
    expect(time.text()).toBe("5 minutes ago");
    expect(time.attributes("title")).toBe(formatExact(iso));
    expect(time.attributes("datetime")).toBe(iso);
  });

  it("keeps counting while the page stays open", async () => {
    const wrapper = mount(RelativeTime, { props: { value: "2025-03-10T11:59:50Z" } });
    expect(wrapper.text()).toBe("just now");
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    expect(wrapper.text()).toBe("3 minutes ago");
  });
});
