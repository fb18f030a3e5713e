import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import ApiKeyUsageChart from "./ApiKeyUsageChart.vue";

describe("ApiKeyUsageChart", () => {
  it("totals exchanges, observations and refusals by cause, one bar per day", () => {
    const wrapper = mount(ApiKeyUsageChart, {
      props: {
        days: [
          { day: "2026-12-05", tokenExchanges: 10, refusals: {}, observations: 100 },
          {
            day: "2026-12-06",
            tokenExchanges: 4,
            refusals: { ip_not_allowed: 2, key_inactive: 1 },
            observations: 0,
          },
        ],
      },
    });
    const totals = wrapper.findAll(".total").map((t) => t.text());
    expect(totals).toEqual(["14", "100"]);
    expect(wrapper.findAll(".refusal").map((r) => r.text())).toEqual(["ip_not_allowed 2", "key_inactive 1"]);
    expect(wrapper.findAll("rect.ok")).toHaveLength(2);
    expect(wrapper.findAll("title").map((t) => t.text())).toContain("2026-12-06: 4 exchanges, 3 refused");
    // The busiest day (10 + 0 refused) fills the chart's height.
    expect(wrapper.findAll("rect.ok")[0]!.attributes("height")).toBe("60");
    expect(wrapper.text()).toContain("2026-12-05 – 2026-12-06 (UTC days)");
  });
});
