import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import type { CreateApiKeyInput } from "../api/types.ts";
import ApiKeyCreateForm from "./ApiKeyCreateForm.vue";
import ExpirationDateInput from "./ExpirationDateInput.vue";

const DAY = 24 * 3600 * 1000;

function mountForm(error: ApiError | null = null) {
  return mount(ApiKeyCreateForm, { props: { submitting: false, error }, attachTo: document.body });
}

async function submit(wrapper: ReturnType<typeof mountForm>) {
  await wrapper.find("form").trigger("submit");
  await flushPromises();
}

describe("ApiKeyCreateForm", () => {
  it("has the guide's fields: Name with its examples, Role with worker/viewer/admin, Expiration Date", () => {
    const wrapper = mountForm();
    const name = wrapper.get("input#api-key-name");
    expect(name.attributes("placeholder")).toContain("Production Worker 01");
    expect(wrapper.get('label[for="api-key-name"]').text()).toContain("Name");
    const options = wrapper.findAll("select#api-key-role option").map((o) => o.text());
    expect(options).toEqual(["worker", "viewer", "admin"]);
    expect(wrapper.text()).toContain("Expiration Date");
    expect(wrapper.get('button[type="submit"]').text()).toBe("Create API Key");
    wrapper.unmount();
  });

  it("refuses an empty name and sends nothing", async () => {
    const wrapper = mountForm();
    await submit(wrapper);
    expect(wrapper.emitted("submit")).toBeUndefined();
    expect(wrapper.text()).toContain('Enter a name, e.g. "Production Worker 01".');
    wrapper.unmount();
  });

  it("refuses an expiration date in the past", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#api-key-name").setValue("Temp worker");
    await wrapper.getComponent(ExpirationDateInput).vm.$emit("update:modelValue", Date.now() - 3 * DAY);
    await submit(wrapper);
    expect(wrapper.emitted("submit")).toBeUndefined();
    expect(wrapper.text()).toContain("The expiration date is in the past.");
    wrapper.unmount();
  });

  it("emits a non-expiring worker key when the date is left blank", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#api-key-name").setValue("  Production Worker 01 ");
    await submit(wrapper);
    expect(wrapper.emitted("submit")?.[0]).toEqual([{ name: "Production Worker 01", role: "worker" }]);
    wrapper.unmount();
  });

  it("sends the optional limits as lists, split on commas and spaces, and none when left blank", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#api-key-name").setValue("Site worker");
    await wrapper.get("input#api-key-create-sites").setValue("s-1, s-2  s-1");
    await wrapper.get("input#api-key-create-cidrs").setValue("10.20.0.0/16");
    await submit(wrapper);
    expect(wrapper.emitted("submit")?.[0]).toEqual([
      { name: "Site worker", role: "worker", allowedSiteIds: ["s-1", "s-2"], allowedCidrs: ["10.20.0.0/16"] },
    ]);
    wrapper.unmount();
  });

  it("shows the server's complaint about a limit under its field", async () => {
    const error = new ApiError({
      status: 400,
      code: "validation_failed",
      title: "Bad Request",
      detail: "body.allowedCidrs.0: an address range",
      fieldErrors: [{ field: "body.allowedCidrs.0", message: "an address range such as 10.0.0.0/8" }],
    });
    const wrapper = mountForm(error);
    await flushPromises();
    expect(wrapper.get("details.limits").attributes("open")).toBeDefined();
    expect(wrapper.text()).toContain("an address range such as 10.0.0.0/8");
    wrapper.unmount();
  });

  it("sends the end of the chosen day as the expiration, with the chosen role", async () => {
    const wrapper = mountForm();
    await wrapper.get("input#api-key-name").setValue("Development Worker");
    await wrapper.get("select#api-key-role").setValue("viewer");
    const day = new Date();
    day.setHours(0, 0, 0, 0);
    day.setDate(day.getDate() + 7);
    await wrapper.getComponent(ExpirationDateInput).vm.$emit("update:modelValue", day.getTime());
    await submit(wrapper);
    const [input] = wrapper.emitted("submit")![0] as [CreateApiKeyInput];
    const end = new Date(day);
    end.setHours(23, 59, 59, 999);
    expect(input).toEqual({ name: "Development Worker", role: "viewer", expiresAt: end.toISOString() });
    wrapper.unmount();
  });

  it("shows the server's problem detail and its message under the named field", () => {
    const error = new ApiError({
      status: 400,
      code: "expiration_in_past",
      title: "Bad Request",
      detail: "The expiration must be in the future.",
      fieldErrors: [{ field: "expiresAt", message: "must be in the future" }],
    });
    const wrapper = mountForm(error);
    expect(wrapper.text()).toContain("The expiration must be in the future.");
    expect(wrapper.text()).toContain("must be in the future");
    wrapper.unmount();
  });
});
