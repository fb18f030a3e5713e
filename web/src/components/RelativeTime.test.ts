import { enableAutoUnmount, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatClock, formatDate, formatExact } from "../format/time.ts";
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
    const wrapper = mount(RelativeTime, { props: { value: "2025-03-10T11:59:55Z" } });
    expect(wrapper.text()).toBe("just now");
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    expect(wrapper.text()).toBe("3 minutes ago");
  });

  it("counts seconds under a minute: 40 s is not 'just now'", async () => {
    const wrapper = mount(RelativeTime, { props: { value: "2025-03-10T11:59:55Z" } });
    expect(wrapper.text()).toBe("just now");
    // The shared clock ticks every 10 s: at most that stale.
    await vi.advanceTimersByTimeAsync(40_000);
    expect(wrapper.text()).toBe("45 seconds ago");
  });

  it("reads a moment a little ahead of this browser's clock (server clock skew) as just now", () => {
    const wrapper = mount(RelativeTime, { props: { value: "2025-03-10T12:00:20Z" } });
    expect(wrapper.text()).toBe("just now");
  });

  it("shows the exact time with the relative one on hover when asked", () => {
    const iso = "2025-03-10T11:55:00Z";
    const time = mount(RelativeTime, { props: { value: iso, exact: true } }).get("time");
    expect(time.html()).toContain(`${formatDate(iso)}<br>${formatClock(Date.parse(iso))}`);
    expect(time.attributes("title")).toBe("5 minutes ago");
  });
});
