/**
 * Settings → Webhooks against the real stack (WEBHOOK_ALLOW_PRIVATE=true, as development runs it)
 * and a real HTTP receiver on 127.0.0.1: an admin creates a webhook in the dashboard, copies its
 * signing secret from the once-shown dialog, a worker streams a face through real ingest, the
 * receiver gets a sighting.started signed with that secret, and the webhook's deliveries show it
 * delivered; then the admin deletes it. Screenshots at desktop and phone width.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  faceThumbnail,
  ingestClient,
  keyToken,
  makeBatch,
  makeObservation,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { WebhookReceiver } from "@facerec/shared/test-support/webhook-receiver.ts";
import type { Browser } from "playwright-core";
import {
  assertFreshBuild,
  launchBrowser,
  newContext,
  ProblemWatcher,
  screenshot,
  seenText,
  signIn,
} from "./support.ts";

describe("webhooks in the dashboard, against the real stack", () => {
  let t: TestStack;
  let browser: Browser;
  const receiver = new WebhookReceiver();
  let receiverUrl: string;

  before(async () => {
    assertFreshBuild();
    receiverUrl = await receiver.listen("/facerec-hook");
    t = await startTestStack({ WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_BASE_MS: "500" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await receiver.close();
  });

  it("creates a webhook, shows its secret once, and lists the signed delivery of a streamed sighting", async () => {
    const context = await newContext(browser, t);
    const page = await context.newPage();
    const watcher = new ProblemWatcher(page);
    await page.goto("/sign-in");
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByText("No webhooks yet").waitFor();
    await screenshot(page, "desktop-webhooks-empty");

    await page.getByRole("button", { name: "Create webhook" }).first().click();
    const form = page.getByRole("dialog");
    await form.getByLabel("Endpoint URL").fill(receiverUrl);
    await form.getByLabel("Description").fill("Front desk");
    await screenshot(page, "desktop-webhooks-create");
    await form.getByRole("button", { name: "Create webhook" }).click();

    const created = page.getByRole("dialog", { name: "Webhook created" });
    await created.waitFor();
    const secret = await seenText(created.locator("code.secret"));
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    await screenshot(page, "desktop-webhooks-secret");
    await created.getByRole("button", { name: "I have copied the secret" }).click();
    await created.waitFor({ state: "detached" });
    const row = page.locator("tbody tr").filter({ hasText: receiverUrl });
    await row.waitFor();
    assert.match(await seenText(row), /Sighting started/);
    assert.ok(!(await page.content()).includes(secret), "the secret is gone from the page once closed");

    // A worker streams a face: ingest starts a sighting, the webhook announces it.
    const admin = await t.login();
    const ingest = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(ingest);
    const stream = new WorkerStream(ingest, (await keyToken(t, admin)).token);
    await stream.exchange(
      makeBatch({
        cameraId: "cam-front-desk",
        observations: [makeObservation({ trackId: 3, thumbnailJpeg: faceThumbnail() })],
      }),
    );
    const delivery = await until(
      "the receiver got the sighting",
      () => receiver.ofType("sighting.started")[0],
      20_000,
    );
    stream.cancel();
    ingest.close();
    const [t0, v1] = String(delivery.headers["facerec-signature"]).split(",");
    const timestamp = t0!.slice("t=".length);
    const expected = createHmac("sha256", secret).update(`${timestamp}.${delivery.body}`).digest("hex");
    assert.equal(v1, `v1=${expected}`, "signed with the secret the dialog showed");
    assert.equal(JSON.parse(delivery.body).data.sighting.cameraId, "cam-front-desk");

    await row.getByRole("button", { name: /^Deliveries/ }).click();
    const deliveries = page.getByRole("dialog").filter({ hasText: `Deliveries to ${receiverUrl}` });
    await deliveries.waitFor();
    const delivered = deliveries.locator("tbody tr").filter({ hasText: "Delivered" });
    // Opened right after the receiver answered: the list may predate the record of the answer.
    for (let tries = 0; !(await delivered.count()) && tries < 20; tries++) {
      await deliveries.getByRole("button", { name: "Refresh" }).click();
      await page.waitForTimeout(250);
    }
    await delivered.waitFor();
    assert.match(await seenText(delivered), /sighting\.started/);
    assert.match(await seenText(delivered), /200/);
    await screenshot(page, "desktop-webhooks-deliveries");
    await page.keyboard.press("Escape");
    await deliveries.waitFor({ state: "detached" });

    const phone = await newContext(browser, t, {
      viewport: "phone",
      storageState: await context.storageState(),
    });
    const phonePage = await phone.newPage();
    await phonePage.goto("/settings-webhooks");
    await phonePage.locator("tbody tr").filter({ hasText: receiverUrl }).waitFor();
    await screenshot(phonePage, "phone-webhooks");
    await phone.close();

    await row.getByRole("button", { name: /^Delete/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete webhook" }).click();
    await page.getByText("Webhook deleted.").waitFor();
    await page.getByText("No webhooks yet").waitFor();

    watcher.assertClean("webhooks page");
    await context.close();
  });
});
