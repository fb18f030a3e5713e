/**
 * The dashboard as a whole against the real stack, with a worker connected through a key made the
 * guide's way: every page loads without console errors or failed requests at desktop and phone
 * width (screenshots kept in web/test-results/e2e/), viewers cannot change keys, an ended session
 * comes back to the page it was on, the API Keys page becomes interactive from a cold cache, and the
 * initial JavaScript stays within its gzipped size budget. (The API Keys page's 1 s budget is a
 * benchmark: bench/dashboard.bench.ts.)
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestStack } from "@facerec/shared/stack/test-stack.ts";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  API_KEYS_PAGE,
  connectWorker,
  interactiveMs,
  launchBrowser,
  median,
  newContext,
  ProblemWatcher,
  report,
  screenshot,
  seenText,
  signIn,
  startStack,
  TENANT,
  type ViewportName,
} from "./support.ts";

const VIEWER_EMAIL = "viewer@example.com";
const VIEWER_PASSWORD = "viewer-password-for-e2e";
const DAY = 86_400_000;

/** Each page, where the sidebar leads, and what shows that its data has arrived. */
const PAGES = [
  { title: "API Keys", path: "/api-keys", ready: (p: Page) => p.getByText("Production Worker 02").first() },
  { title: "Workers", path: "/workers", ready: (p: Page) => p.getByText("worker-001").first() },
  { title: "Events", path: "/events", ready: (p: Page) => p.locator("img.thumb").first() },
  {
    title: "Audit Log",
    path: "/audit-log",
    ready: (p: Page) => p.getByText("Signed in", { exact: true }).first(),
  },
] as const;

/** Basic-mode observations show — for track and quality; times read relative, or exact once chosen. */
async function checkEventsDetails(page: Page): Promise<void> {
  const rows = page.locator(".n-data-table tbody tr");
  const headers = (await page.locator(".n-data-table thead th").allInnerTexts()).map((h) => h.trim());
  const shown = await Promise.all(
    [...Array(await rows.count()).keys()].map(async (i) => {
      const cell = (header: string) => seenText(rows.nth(i).locator("td").nth(headers.indexOf(header)));
      return `${await cell("Track")} ${await cell("Quality")}`;
    }),
  );
  // Each worker sent two untracked observations (basic mode) and one on track 1 with quality 0.8.
  assert.deepEqual(shown.sort(), ["1 0.80", "1 0.80", "— —", "— —", "— —", "— —"]);

  const captured = rows.first().locator("time");
  const exact = await captured.getAttribute("title");
  assert.ok(exact && /\d{4}/.test(exact), `the exact time on hover, got ${exact}`);
  await page.getByText("Exact", { exact: true }).click();
  // The date above the time, so the column keeps its width.
  const shownExact = async () => (await seenText(rows.first().locator("time"))).replace("\n", ", ");
  assert.equal(await shownExact(), exact, "the column shows the exact time once chosen");
  await page.reload();
  await rows.first().locator("img.thumb").waitFor();
  assert.equal(await shownExact(), exact, "the choice is remembered");
  await screenshot(page, "desktop-events-exact-times");
  await page.getByText("Relative", { exact: true }).click();
}

/** A worker whose stream closed says why and since when, and its last batch counts seconds. */
async function checkDisconnectedWorker(page: Page): Promise<void> {
  const row = page.locator(".n-data-table tbody tr").filter({ hasText: "worker-leaving" });
  await row.getByText("disconnected").waitFor();
  // The worker ended its stream itself: disconnectReason worker_closed.
  assert.match(await seenText(row.locator("time.since")), /^worker stopped · since \d/);
  const headers = (await page.locator(".n-data-table thead th").allInnerTexts()).map((h) => h.trim());
  assert.match(
    await seenText(row.locator("td").nth(headers.indexOf("Last batch"))),
    /^(just now|\d+ seconds ago|1 minute ago)$/,
  );
}

/** Goes to a page through the sidebar, or on a phone through the menu's drawer. */
async function navigate(page: Page, viewport: ViewportName, title: string): Promise<void> {
  if (viewport === "phone") await page.getByRole("button", { name: "Open navigation" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: title }).click();
  await page.getByRole("heading", { name: title, level: 1 }).waitFor();
  // The drawer closes itself on navigation; wait until it has gone.
  if (viewport === "phone") await page.locator(".n-drawer").waitFor({ state: "detached" });
}

describe("the dashboard against the real stack", () => {
  let t: TestStack;
  let browser: Browser;
  let worker: { close: () => Promise<void> } | undefined;
  let viewerCreated: { status: number; body: unknown };
  const contexts: BrowserContext[] = [];
  const context = async (viewport: ViewportName = "desktop") => {
    const c = await newContext(browser, t, { viewport });
    contexts.push(c);
    return c;
  };

  before(async () => {
    [t, browser] = await Promise.all([startStack(), launchBrowser()]);
    const admin = await t.login();
    // Keys in every state the list shows, one of them in use by a connected worker.
    const first = await t.createKey(admin, { name: "Production Worker 01", role: "worker" });
    await t.createKey(admin, {
      name: "Production Worker 02",
      role: "worker",
      expiresAt: new Date(Date.now() + 90 * DAY).toISOString(),
    });
    const dev = await t.createKey(admin, { name: "Development Worker", role: "worker" });
    await t.api("PATCH", `/v1/api-keys/${dev.id}`, { token: admin, body: { active: false } });
    await t.createKey(admin, { name: "Reporting integration", role: "viewer" });
    worker = await connectWorker(t, first.key, TENANT);
    // A second worker that streamed and left: listed as disconnected.
    const leaving = await t.createKey(admin, { name: "Short-lived worker", role: "worker" });
    await (await connectWorker(t, leaving.key, TENANT, "worker-leaving")).close();
    viewerCreated = await t.api("POST", "/v1/users", {
      token: admin,
      body: { email: VIEWER_EMAIL, password: VIEWER_PASSWORD, role: "viewer" },
    });
  });
  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await worker?.close();
    await t?.stop();
  });

  for (const viewport of ["desktop", "phone"] as const) {
    it(`every page loads without console errors or failed requests (${viewport})`, async () => {
      const page = await (await context(viewport)).newPage();
      const watcher = new ProblemWatcher(page);

      await page.goto("/sign-in");
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      await screenshot(page, `${viewport}-sign-in`);
      await signIn(page);

      for (const { title, path, ready } of PAGES) {
        await navigate(page, viewport, title);
        assert.equal(new URL(page.url()).pathname, path);
        await ready(page).waitFor();
        if (title === "Events") {
          // Every thumbnail fetched (with the bearer token) and decoded: three observations from
          // each worker (a row shows a placeholder until its image has arrived).
          await page.waitForFunction(() => {
            const images = [...document.querySelectorAll("img.thumb")];
            return images.length === 6 && images.every((i) => (i as HTMLImageElement).naturalWidth > 0);
          });
          assert.equal(
            await page.locator(".n-data-table tbody tr").count(),
            6,
            "three observations from each worker",
          );
        }
        assert.equal(await page.title(), `${title} · Facerec`);
        if (viewport === "desktop") {
          // The tables are laid out to fit a 1280 px screen beside the sidebar: nothing hides under
          // the fixed Actions column and nothing needs scrolling sideways, with real data.
          const sideways = await page.evaluate(() =>
            [...document.querySelectorAll(".n-data-table .n-scrollbar-container")].map(
              (el) => el.scrollWidth - el.clientWidth,
            ),
          );
          assert.ok(
            sideways.every((px) => px <= 0),
            `${title}: a table scrolls sideways at 1280 px (${sideways} px)`,
          );
        }
        await screenshot(page, `${viewport}-${path.slice(1)}`);
        if (viewport === "desktop" && title === "Events") await checkEventsDetails(page);
        if (viewport === "desktop" && title === "Workers") await checkDisconnectedWorker(page);
      }
      if (viewport === "phone") {
        await page.getByRole("button", { name: "Open navigation" }).click();
        await page.getByRole("navigation", { name: "Main" }).waitFor();
        // The drawer is fixed to the screen: a full-page capture would show the page running on below it.
        await screenshot(page, "phone-navigation-drawer", { fullPage: false });
      }
      // Nothing wider than the screen: the page never scrolls sideways (tables scroll inside their card).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the ${viewport} screen`);
      watcher.assertClean(`every page at ${viewport} width`);
    });
  }

  it("a viewer sees the keys but no create, edit or delete controls and no active switches", async () => {
    assert.equal(
      viewerCreated.status,
      201,
      `POST /v1/users must create the viewer: ${JSON.stringify(viewerCreated.body)}`,
    );
    for (const viewport of ["desktop", "phone"] as const) {
      const page = await (await context(viewport)).newPage();
      const watcher = new ProblemWatcher(page);
      await page.goto("/api-keys");
      await signIn(page, VIEWER_EMAIL, VIEWER_PASSWORD);
      await page.getByText("Production Worker 02").first().waitFor();
      assert.equal(await page.locator(".api-keys-table tbody tr").count(), 5, "every key is listed");
      assert.equal(await page.getByRole("button", { name: "Create API Key" }).count(), 0);
      assert.equal(await page.getByRole("button", { name: /^(Edit|Delete)\b/ }).count(), 0);
      assert.equal(await page.getByRole("switch").count(), 0);
      assert.match(await seenText(page.locator(".api-keys-table")), /inactive/, "status is still shown");
      await screenshot(page, `${viewport}-viewer-api-keys`);
      watcher.assertClean(`the viewer's API Keys page (${viewport})`);
    }
  });

  it("an ended session returns to sign-in and, signed in again, to the page the admin was on", async () => {
    const c = await context();
    const page = await c.newPage();
    const watcher = new ProblemWatcher(page);
    await page.goto("/sign-in");
    await signIn(page);
    const auditLoaded = () => PAGES[3].ready(page).waitFor();
    await navigate(page, "desktop", "Audit Log");
    // Reloading while the page's request is in flight would abort it: let it arrive first.
    await auditLoaded();

    const expectBackAtAuditLog = async (how: string) => {
      await page.waitForURL((url) => url.pathname === "/sign-in");
      assert.equal(new URL(page.url()).searchParams.get("redirect"), "/audit-log", how);
      await page.getByText("Sign in to continue where you left off.").waitFor();
      await signIn(page);
      assert.equal(new URL(page.url()).pathname, "/audit-log", how);
      await page.getByRole("heading", { name: "Audit Log", level: 1 }).waitFor();
      await auditLoaded();
    };

    // The cookies are gone (expired, or cleared by the browser): nothing to restore.
    await c.clearCookies();
    await page.reload();
    await expectBackAtAuditLog("cookies cleared");
    await screenshot(page, "session-restored-audit-log");

    // The session was ended on the server (signed out elsewhere): the refresh fails on reload.
    const cookies = await c.cookies();
    const refresh = cookies.find((k) => k.name === "facerec_refresh");
    assert.ok(refresh, "signed in again, the refresh cookie is back");
    const ended = await t.api("POST", "/v1/auth/logout", {
      headers: { cookie: `${refresh.name}=${refresh.value}` },
    });
    assert.equal(ended.status, 204);
    watcher.expect({ status: 401, path: "/v1/auth/refresh" });
    await page.reload();
    await expectBackAtAuditLog("session ended on the server");
    watcher.assertClean("an ended session");
  });

  it("the API Keys page becomes interactive from a cold cache, with its rows and Create API Key enabled", async () => {
    // Timed here for information only: the 1 s budget is judged by `npm run bench -w @facerec/web`,
    // which measures more loads against a baseline of the same run (a timed assertion in the test
    // suite failed whenever the shared machine was busy).
    const runs = await interactiveMs(browser, t, API_KEYS_PAGE(4), { loads: 3 });
    report(`API Keys page interactive (cold cache): median ${median(runs)} ms of ${runs.join(", ")} ms`);
  });

  it("budget: initial JavaScript of the build within 250 KB gzipped", () => {
    const web = join(import.meta.dirname, "..");
    const output = execFileSync(process.execPath, [join(web, "scripts", "size.ts")], { encoding: "utf8" });
    const line = output.split("\n").find((l) => l.startsWith("Initial JS"));
    assert.ok(line, output);
    report(line);
  });
});
