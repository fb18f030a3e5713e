import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import type { ApiKey } from "../api/types.ts";
import ApiKeyRotateForm from "./ApiKeyRotateForm.vue";

const apiKey = { id: "k1", name: "Production Worker 01" } as ApiKey;
const mountForm = (error: ApiError | null = null) =>
  mount(ApiKeyRotateForm, { props: { apiKey, submitting: false, error }, attachTo: document.body });

describe("ApiKeyRotateForm", () => {
  it("offers a day's overlap by default, and sends the grace period chosen", async () => {
    const wrapper = mountForm();
    expect(wrapper.text()).toContain('"Production Worker 01" gets a new secret, shown once.');
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")?.[0]).toEqual([86_400]);
    const now = wrapper.findAll('input[type="radio"]').find((r) => r.attributes("value") === "0")!;
    await now.setValue(true);
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(wrapper.emitted("submit")?.[1]).toEqual([0]);
    wrapper.unmount();
  });

  it("shows why the server refused, e.g. a rotation still in progress", () => {
    const error = new ApiError({
      status: 400,
      code: "rotation_in_progress",
      title: "Bad Request",
      detail: "the key's previous secret works until 2030-01-01T00:00:00.000Z; rotate again after that",
    });
    const wrapper = mountForm(error);
    expect(wrapper.text()).toContain("previous secret works until");
    wrapper.unmount();
  });
});
