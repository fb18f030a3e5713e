import { flushPromises, mount } from "@vue/test-utils";
import { createPinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { api } from "../api/instance.ts";
import { createFakeFetch, json, problem, type RecordedRequest, session } from "../testing/fakeFetch.ts";
import SignInPage from "./SignInPage.vue";

beforeEach(() => api.forgetSession());

describe("SignInPage", () => {
  it("asks for the tenant only when the same email and password open accounts in several", async () => {
    const logins: RecordedRequest[] = [];
    vi.stubGlobal(
      "fetch",
      createFakeFetch({
        "POST /v1/auth/login": (req) => {
          logins.push(req);
          return (req.body as { tenantId?: string }).tenantId
            ? json(session("t-b"))
            : problem(
                400,
                "tenant_required",
                "this email has accounts in several tenants: sign in with tenantId",
              );
        },
      }).fetch,
    );
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: "/sign-in", component: SignInPage },
        { path: "/:rest(.*)*", component: { template: "<p>signed in</p>" } },
      ],
    });
    await router.push("/sign-in");
    const wrapper = mount(SignInPage, {
      global: { plugins: [createPinia(), router] },
      attachTo: document.body,
    });
    expect(wrapper.find("#sign-in-tenant").exists()).toBe(false);

    await wrapper.get("#sign-in-email").setValue("pat@example.test");
    await wrapper.get("#sign-in-password").setValue("same-password");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(wrapper.text()).toContain("accounts in several tenants");
    // The password stays: the same one is sent again with the tenant.
    await wrapper.get("#sign-in-tenant").setValue("t-b");
    await wrapper.get("form").trigger("submit");
    await flushPromises();

    expect(logins.map((r) => r.body)).toEqual([
      { email: "pat@example.test", password: "same-password" },
      { email: "pat@example.test", password: "same-password", tenantId: "t-b" },
    ]);
    expect(router.currentRoute.value.path).not.toBe("/sign-in");
    wrapper.unmount();
  });
});
