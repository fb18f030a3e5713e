import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import type { ApiKey } from "../api/types.ts";
import ApiKeyEditForm from "./ApiKeyEditForm.vue";

const apiKey: ApiKey = {
  id: "k1",
  name: "Production Worker 01",
  role: "worker",
  prefix: "frk_k1xxxxxxxxxx",
  active: true,
  status: "active",
  expiresAt: null,
  expiresSoon: false,
  lastUsedAt: null,
  lastUsedBy: null,
  createdAt: "2025-01-01T00:00:00Z",
  createdBy: "u-1",
  rotatedAt: null,
  previousSecretExpiresAt: null,
  allowedSiteIds: ["s-1"],
  allowedWorkerIds: [],
  allowedCidrs: [],
  stale: false,
};
const mountForm = () =>
  mount(ApiKeyEditForm, { props: { apiKey, submitting: false, error: null }, attachTo: document.body });

describe("ApiKeyEditForm", () => {
  it("sends only the limits that changed, an emptied one as an empty list", async () => {
    const wrapper = mountForm();
    expect((wrapper.get("input#api-key-edit-sites").element as HTMLInputElement).value).toBe("s-1");
    await wrapper.get("input#api-key-edit-sites").setValue("");
    await wrapper.get("input#api-key-edit-workers").setValue("worker-001, worker-002");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(wrapper.emitted("submit")?.[0]).toEqual([
      { allowedSiteIds: [], allowedWorkerIds: ["worker-001", "worker-002"] },
    ]);
    wrapper.unmount();
  });

  it("offers Rotate… for the key's secret", async () => {
    const wrapper = mountForm();
    await wrapper.get('button[aria-label="Rotate Production Worker 01"]').trigger("click");
    expect(wrapper.emitted("rotate")).toHaveLength(1);
    wrapper.unmount();
  });
});
