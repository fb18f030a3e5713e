/**
 * The worker API key guide (shared/seed/worker-api-key-setup.md), followed word for word in a real
 * browser against the real stack: sign in → API Keys → Create API Key → copy the key once shown →
 * the worker's token exchange works → deactivate, reactivate and delete take effect at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestStack } from "@facerec/shared/stack/test-stack.ts";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import {
  launchBrowser,
  newContext,
  ProblemWatcher,
  screenshot,
  seenText,
  signIn,
  startStack,
  TENANT,
} from "./support.ts";

const NAME = "Production Worker 01";

/** The text of `row`'s cell under the column headed `header`. */
async function cell(page: Page, row: Locator, header: string): Promise<string> {
  const headers = await page.locator(".api-keys-table thead th").allInnerTexts();
  const index = headers.findIndex((h) => h.trim() === header);
  assert.ok(index >= 0, `no "${header}" column in ${JSON.stringify(headers)}`);
  return seenText(row.locator("td").nth(index));
}

async function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

describe("the worker API key guide, in the browser", () => {
  let t: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watcher: ProblemWatcher;

  before(async () => {
    [t, browser] = await Promise.all([startStack(), launchBrowser()]);
    context = await newContext(browser, t);
    // "Copy the generated API key": the copy button writes to the clipboard, the test reads it back.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
    page = await context.newPage();
    watcher = new ProblemWatcher(page);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("creates a worker key, shows it once, and deactivate, reactivate and delete take effect at once", async () => {
    // "1. Log in to the web dashboard"
    await page.goto("/");
    await page.waitForURL((url) => url.pathname === "/sign-in");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(
      await page.getByText("continue where you left off").count(),
      0,
      "a first visit is not greeted as a return",
    );
    await signIn(page);

    // "2. Navigate to **API Keys** in the sidebar"
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API Keys" }).click();
    await page.waitForURL("**/api-keys");
    await page.getByRole("heading", { name: "API Keys", level: 1 }).waitFor();
    await page.getByText("No API keys yet").waitFor();

    // "3. Click **Create API Key**"
    await page.getByRole("button", { name: "Create API Key" }).first().click();
    const form = page.getByRole("dialog").filter({ hasText: "Create API Key" });
    await form.waitFor();

    // "4. Fill in the details": Name, Role "worker", Expiration Date left blank.
    const name = form.getByLabel("Name");
    assert.match(String(await name.getAttribute("placeholder")), /Production Worker 01.*Development Worker/);
    await name.fill(NAME);
    await form.getByLabel("Role").selectOption("worker");
    assert.equal(await form.getByLabel("Expiration Date").inputValue(), "", "blank means non-expiring");
    await screenshot(page, "guide-create-form");

    // "5. Click **Create API Key**"
    await form.getByRole("button", { name: "Create API Key" }).click();

    // "6. Copy the generated API key immediately - it will only be shown once!"
    const shown = page.getByRole("dialog").filter({ hasText: "API key created" });
    await shown.waitFor();
    await assert.doesNotReject(shown.getByText("It will only be shown once").waitFor());
    const displayed = await seenText(shown.getByLabel("API key", { exact: true }));
    assert.match(displayed, /^\S{32,}$/, "the whole key is displayed");
    const env = await seenText(shown.getByLabel("Worker .env"));
    // API_URL is the gateway that serves the dashboard: the address the worker exchanges its key at.
    const apiUrl = new URL(page.url()).origin;
    assert.equal(
      env,
      `API_URL=${apiUrl}\nWORKER_API_KEY=${displayed}\nTENANT_ID=${TENANT}\nSITE_ID=<your-site-id>`,
    );
    await screenshot(page, "guide-key-shown-once");

    await shown.getByRole("button", { name: "Copy .env lines" }).click();
    // Ending in a newline, so appending them to an existing .env keeps the next line apart.
    assert.equal(
      await readClipboard(page),
      `${env}\n`,
      "the .env lines are copied as shown, newline-terminated",
    );
    await shown.getByRole("button", { name: "Copy API key" }).click();
    await shown.getByRole("button", { name: "Copy API key" }).getByText("Copied").waitFor();
    const copied = await readClipboard(page);
    assert.equal(copied, displayed, "the copy button copies exactly the key shown");

    await shown.getByRole("button", { name: "I have copied the key" }).click();
    await shown.waitFor({ state: "detached" });
    assert.ok(!(await page.content()).includes(copied), "closed: the key is nowhere in the page any more");

    // The list: the new key, a worker key, active, never used, never expiring.
    const row = page.locator(".api-keys-table tbody tr").filter({ hasText: NAME });
    await row.waitFor();
    assert.equal(await cell(page, row, "Role"), "worker");
    assert.match(await cell(page, row, "Status"), /^active/);
    assert.equal(await cell(page, row, "Last Used"), "Never", "unused so far");
    assert.equal(await cell(page, row, "Expires"), "Never");
    const prefix = await cell(page, row, "Key prefix");
    assert.match(prefix, /^frk_\w{12}$/, "the whole prefix, not cut short");
    assert.ok(copied.startsWith(prefix), "the prefix is the key's start");

    // The worker: "Worker sends API key to /v1/auth/token", with the copied key and the tenant.
    const exchanged = await t.exchange(copied, TENANT);
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body["tokenType"], "Bearer");
    assert.ok(exchanged.body["accessToken"]);

    // "Monitor key usage through the 'Last Used' column": after the exchange it reads as a relative time.
    let lastUsed = "";
    for (let attempt = 0; attempt < 20; attempt++) {
      await page.reload();
      await row.waitFor();
      lastUsed = await cell(page, row, "Last Used");
      if (lastUsed !== "Never") break;
      await page.waitForTimeout(250);
    }
    assert.equal(lastUsed, "just now");
    const exact = await row.locator("td time").first().getAttribute("title");
    assert.ok(exact && /\d{4}/.test(exact), `the exact time on hover, got ${exact}`);

    // "Deactivated keys will immediately stop working."
    const active = page.getByRole("switch", { name: `${NAME} active` });
    assert.equal(await active.getAttribute("aria-checked"), "true");
    await active.click();
    await page.getByText(`"${NAME}" is deactivated`).waitFor();
    assert.equal(await active.getAttribute("aria-checked"), "false");
    assert.match(await cell(page, row, "Status"), /^inactive/);
    const inactive = await t.exchange(copied, TENANT);
    assert.deepEqual([inactive.status, inactive.body["code"]], [401, "key_inactive"]);
    await screenshot(page, "guide-key-inactive");

    // Reactivated: works again.
    await active.click();
    await page.getByText(`"${NAME}" is active again`).waitFor();
    assert.equal(await active.getAttribute("aria-checked"), "true");
    assert.match(await cell(page, row, "Status"), /^active/);
    assert.equal((await t.exchange(copied, TENANT)).status, 200);

    // "Deleted keys cannot be recovered": said in the confirmation, and true afterwards.
    await row.getByRole("button", { name: `Delete ${NAME}` }).click();
    const confirm = page.getByRole("dialog").filter({ hasText: `Delete "${NAME}"?` });
    await confirm.getByText("Deleted keys cannot be recovered").waitFor();
    await screenshot(page, "guide-delete-confirmation");
    await confirm.getByRole("button", { name: "Delete key" }).click();
    await page.getByText(`Deleted "${NAME}".`).waitFor();
    await row.waitFor({ state: "detached" });
    await page.reload();
    await page.getByText("No API keys yet").waitFor();
    assert.equal(await row.count(), 0, "gone from the list for good");
    const deleted = await t.exchange(copied, TENANT);
    assert.deepEqual([deleted.status, deleted.body["code"]], [401, "invalid_api_key"]);

    watcher.assertClean("the guide's flow");
  });
});
