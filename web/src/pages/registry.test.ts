import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it } from "vitest";
import SidebarContent from "../components/SidebarContent.vue";
import { createAppRouter, safeRedirect } from "../router.ts";
import { DASHBOARD_PAGES, HOME_PAGE, pagePath } from "./registry.ts";

beforeEach(() => {
  setActivePinia(createPinia());
});

describe("the page registry", () => {
  it("gives every page a route with its title, and makes the first one home", () => {
    const router = createAppRouter();
    for (const page of DASHBOARD_PAGES) {
      const route = router.resolve(pagePath(page));
      expect(route.name).toBe(page.name);
      expect(route.meta.title).toBe(page.title);
    }
    const home = router.getRoutes().find((r) => r.path === "/" && r.redirect);
    expect(home?.redirect).toEqual({ name: HOME_PAGE.name });
    expect(safeRedirect("https://evil.example")).toBe(pagePath(HOME_PAGE));
  });

  it("gives every page a sidebar link with its icon, in the registry's order", async () => {
    const router = createAppRouter();
    const wrapper = mount(SidebarContent, {
      props: { email: "admin@acme.test", tenantId: "t-acme", role: "admin" },
      global: { plugins: [router] },
    });
    await flushPromises();
    const links = wrapper.findAll("nav a");
    expect(links.map((a) => [a.text(), a.attributes("href")])).toEqual(
      DASHBOARD_PAGES.map((p) => [p.title, pagePath(p)]),
    );
    for (const link of links) expect(link.find("svg.app-icon path, svg.app-icon circle").exists()).toBe(true);
  });
});
