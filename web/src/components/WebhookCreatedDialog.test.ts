import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebhookCreatedDialog from "./WebhookCreatedDialog.vue";

const SECRET = "whsec_Jm9Yq3v1bHc2eXR0aG1rZ2ZvcmV4YW1wbGVvbmx5MDAw";

afterEach(() => {
  document.body.innerHTML = "";
});

describe("WebhookCreatedDialog", () => {
  it("shows the signing secret once, copies it, and closes only through its button", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const wrapper = mount(WebhookCreatedDialog, {
      props: { secret: SECRET, url: "https://hooks.example.com/facerec" },
      attachTo: document.body,
    });
    await flushPromises();
    const dialog = document.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain("It will only be shown once");
    expect(dialog.textContent).toContain("Facerec-Signature");
    expect(dialog.querySelector("code.secret")!.textContent).toBe(SECRET);
    document.querySelector<HTMLButtonElement>('button[aria-label="Copy signing secret"]')!.click();
    await flushPromises();
    expect(writeText).toHaveBeenCalledWith(SECRET);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(wrapper.emitted("close")).toBeUndefined();
    [...document.querySelectorAll("button")]
      .find((b) => b.textContent?.includes("I have copied the secret"))!
      .click();
    expect(wrapper.emitted("close")).toHaveLength(1);
    wrapper.unmount();
  });
});
