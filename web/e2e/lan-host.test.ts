/**
 * The dashboard opened the way an admin on the LAN opens it: plain HTTP to a name that is not
 * localhost. Chromium resolves `facerec.lan` to a second loopback address (127.0.0.2), so the page is
 * neither a localhost origin nor a secure context. Over plain HTTP the gateway must not send
 * `upgrade-insecure-requests` or HSTS (either would send the browser to https on a port without
 * TLS: a blank page); behind a trusted TLS-terminating proxy (`X-Forwarded-Proto: https`) it must.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import type { Browser } from "playwright-core";
import { launchChromium } from "../scripts/chromium.ts";
import { assertFreshBuild, ProblemWatcher, screenshot, signIn } from "./support.ts";

const LAN_NAME = "facerec.lan";

describe("the dashboard from another host over plain HTTP", () => {
  let t: TestStack;
  let browser: Browser;

  before(async () => {
    assertFreshBuild();
    t = await startTestStack({ TRUST_PROXY: "true" });
    browser = await launchChromium([`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.2`]);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("renders, signs in and creates a key at http://facerec.lan:<port>/", async () => {
    const origin = `http://${LAN_NAME}:${t.stack.ports.gateway}`;
    const context = await browser.newContext({ baseURL: origin, locale: "en-US" });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const watcher = new ProblemWatcher(page);
    const response = await page.goto("/sign-in");
    assert.equal(response?.status(), 200);
    assert.equal(new URL(page.url()).protocol, "http:", "the browser stayed on plain HTTP");
    assert.equal(await page.evaluate(() => window.isSecureContext), false, "not a secure context");
    await signIn(page);
    // Sign-in leads to Sightings; the keys are a click away in the sidebar.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API Keys" }).click();
    await page.getByRole("heading", { name: "API Keys", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Create API Key" }).first().click();
    const form = page.getByRole("dialog").filter({ hasText: "Create API Key" });
    await form.getByLabel("Name").fill("LAN Worker 01");
    await form.getByLabel("Role").selectOption("worker");
    await form.getByRole("button", { name: "Create API Key" }).click();
    const shown = page.getByRole("dialog").filter({ hasText: "API key created" });
    // The worker's API_URL is the address the admin used, not localhost.
    await shown.getByText(`API_URL=${origin}`).waitFor();
    await screenshot(page, "lan-host-key-created");
    watcher.assertClean("the dashboard opened from a LAN name");
    await context.close();
  });

  it("sends upgrade-insecure-requests and HSTS only for requests that arrived over TLS", async () => {
    const plain = await fetch(`${t.url}/sign-in`);
    assert.doesNotMatch(plain.headers.get("content-security-policy") ?? "", /upgrade-insecure-requests/);
    assert.match(plain.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(plain.headers.get("strict-transport-security"), null);

    const viaTlsProxy = await fetch(`${t.url}/sign-in`, { headers: { "x-forwarded-proto": "https" } });
    assert.match(viaTlsProxy.headers.get("content-security-policy") ?? "", /upgrade-insecure-requests/);
    assert.match(viaTlsProxy.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
  });
});
