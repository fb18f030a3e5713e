import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import ApiKeyCreatedDialog from "./ApiKeyCreatedDialog.vue";

const KEY = "fr_live_abcd1234efgh5678ijkl9012mnop3456";

function mountDialog() {
  return mount(ApiKeyCreatedDialog, {
    props: { plaintextKey: KEY, keyName: "Production Worker 01", tenantId: "t-acme" },
    attachTo: document.body,
  });
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("ApiKeyCreatedDialog", () => {
  it("shows the key once, with the warning that it will only be shown once", async () => {
    const wrapper = mountDialog();
    await flushPromises();
    const dialog = document.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain("It will only be shown once");
    expect(dialog.textContent).toContain("cannot be recovered");
    expect(dialog.querySelector("code.secret")!.textContent).toBe(KEY);
    wrapper.unmount();
  });

  it("shows the worker's .env lines with the API URL, the key, the tenant and a SITE_ID placeholder", async () => {
    const wrapper = mountDialog();
    await flushPromises();
    const env = document.querySelector("pre.env-lines")!.textContent;
    // The last line ends with a newline too, so appending to an existing .env stays well-formed.
    expect(env).toBe(
      `API_URL=${window.location.origin}\nWORKER_API_KEY=${KEY}\nTENANT_ID=t-acme\nSITE_ID=<your-site-id>\n`,
    );
    wrapper.unmount();
  });

  it("copies the key with a labelled copy button", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const wrapper = mountDialog();
    await flushPromises();
    document.querySelector<HTMLButtonElement>('button[aria-label="Copy API key"]')!.click();
    await flushPromises();
    expect(writeText).toHaveBeenCalledWith(KEY);
    expect(document.querySelector('button[aria-label="Copy API key"]')!.textContent).toContain("Copied");

    document.querySelector<HTMLButtonElement>('button[aria-label="Copy .env lines"]')!.click();
    await flushPromises();
    expect(writeText).toHaveBeenLastCalledWith(expect.stringMatching(/\nSITE_ID=<your-site-id>\n$/));
    wrapper.unmount();
  });

  it("closes only through its button", async () => {
    const wrapper = mountDialog();
    await flushPromises();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(wrapper.emitted("close")).toBeUndefined();
    const done = [...document.querySelectorAll("button")].find((b) =>
      b.textContent?.includes("I have copied the key"),
    )!;
    done.click();
    expect(wrapper.emitted("close")).toHaveLength(1);
    wrapper.unmount();
  });
});
