/**
 * What the end-to-end tests share: the real stack serving the built dashboard, Debian's Chromium
 * driven by playwright-core, a watcher that turns console errors and failed requests into test
 * failures, signing in through the form, screenshots as artifacts, and a worker feeding real
 * observations so the Workers and Events pages have something to show.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  startTestStack,
  type TestStack,
} from "@facerec/shared/stack/test-stack.ts";
import {
  faceThumbnail,
  ingestClient,
  makeBatch,
  makeObservation,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import type { Browser, BrowserContext, Locator, Page, Request } from "playwright-core";
import { launchChromium } from "../scripts/chromium.ts";

export { ADMIN_EMAIL, ADMIN_PASSWORD, TENANT } from "@facerec/shared/stack/test-stack.ts";

const WEB = join(import.meta.dirname, "..");
export const ARTIFACTS = join(WEB, "test-results", "e2e");
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/**
 * The gateway serves web/dist as it is: testing an old build would test the wrong thing, so a
 * missing or stale build stops the run with the command that fixes it.
 */
export function assertFreshBuild(): void {
  const index = join(WEB, "dist", "index.html");
  assert.ok(existsSync(index), "web/dist is missing: run `npm run build -w @facerec/web` first");
  const built = statSync(index).mtimeMs;
  const newer: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith(".test.ts") && statSync(path).mtimeMs > built) newer.push(path);
    }
  };
  walk(join(WEB, "src"));
  assert.deepEqual(
    newer.map((p) => p.slice(WEB.length + 1)),
    [],
    "web/src changed after the last build: run `npm run build -w @facerec/web` first",
  );
}

/** The stack as `npm start` runs it (every service its own process), on free ports and its own database. */
export async function startStack(): Promise<TestStack> {
  assertFreshBuild();
  return startTestStack();
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return launchChromium();
}

export async function newContext(
  browser: Browser,
  t: TestStack,
  opts: {
    viewport?: ViewportName;
    storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>;
  } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: t.url,
    viewport: VIEWPORTS[opts.viewport ?? "desktop"],
    // Fixed, so relative times and dates read the same on every machine.
    locale: "en-US",
    ...(opts.storageState ? { storageState: opts.storageState } : {}),
  });
  // Everything here answers in milliseconds; a wait that long means the thing never happened.
  context.setDefaultTimeout(10_000);
  return context;
}

const LIVE_FEED_PATH = "/v1/sightings/stream";

/** A response the test provokes on purpose (a failed refresh, say): not a problem. */
export interface Expected {
  status: number;
  path: string | RegExp;
}

/**
 * Collects everything that would show up red in DevTools: console errors, uncaught exceptions,
 * failed requests and responses of 400 or more. `expect()` allows deliberate ones; `assertClean()`
 * fails the test with the list.
 */
export class ProblemWatcher {
  readonly #problems: string[] = [];
  #expected: Expected[] = [];
  /**
   * Main-frame navigations so far. A request aborted after a later navigation began was cut off by
   * it (a test's page.goto while images or lists still load), which nobody sees; one aborted in
   * the document still shown is a problem (the app aborts nothing but the live feed).
   */
  #navigations = 0;
  readonly #navigationOf = new WeakMap<Request, number>();
  readonly #aborted: { navigation: number; problem: string }[] = [];

  constructor(page: Page) {
    page.on("request", (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) this.#navigations++;
      this.#navigationOf.set(request, this.#navigations);
    });
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      // Chromium reports every 4xx/5xx resource as a console error too; those are judged as responses.
      const url = message.location().url;
      if (message.text().startsWith("Failed to load resource") && url && this.#isExpectedUrl(url)) return;
      this.#problems.push(`console error: ${message.text()} (${url || "no url"})`);
    });
    page.on("pageerror", (error) => this.#problems.push(`uncaught: ${error.stack ?? error.message}`));
    page.on("requestfailed", (request) => {
      const problem = `request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`;
      if (request.failure()?.errorText !== "net::ERR_ABORTED") return this.#problems.push(problem);
      // The Sightings page closes its live feed when it is left: an abort on purpose.
      if (new URL(request.url()).pathname === LIVE_FEED_PATH) return;
      // Judged in assertClean, when a navigation that caused it has surely been seen.
      this.#aborted.push({ navigation: this.#navigationOf.get(request) ?? this.#navigations, problem });
    });
    page.on("response", (response) => {
      if (response.status() < 400) return;
      const url = new URL(response.url());
      if (this.#expected.some((e) => e.status === response.status() && matches(e.path, url.pathname))) return;
      this.#problems.push(
        `HTTP ${response.status()}: ${response.request().method()} ${url.pathname}${url.search}`,
      );
    });
  }

  /** Allows responses matching `expected` from now on. */
  expect(...expected: Expected[]): void {
    this.#expected.push(...expected);
  }

  #isExpectedUrl(url: string): boolean {
    const path = new URL(url).pathname;
    return this.#expected.some((e) => matches(e.path, path));
  }

  assertClean(what: string): void {
    const abortedInPlace = this.#aborted
      .filter((a) => a.navigation === this.#navigations)
      .map((a) => a.problem);
    assert.deepEqual(
      [...this.#problems, ...abortedInPlace],
      [],
      `${what}: console errors or failed requests`,
    );
  }
}

const matches = (pattern: string | RegExp, path: string) =>
  typeof pattern === "string" ? pattern === path : pattern.test(path);

/** The text as a person sees it (rendered, so hidden text does not count), trimmed. */
export async function seenText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator; the rendered text is the point
  return (await locator.innerText()).trim();
}

/** Signs in through the form, exactly as a person does. */
export async function signIn(page: Page, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/sign-in");
}

/** Waits for running animations and fonts to settle, then saves a PNG of the whole page (or the screen). */
export async function screenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  // naive-ui animates modals, drawers and toasts; wait for every running animation to finish.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
  await page.evaluate(() => document.fonts.ready);
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}

/**
 * A worker as the guide configures it: exchanges its key, streams one batch of three faces from
 * two cameras, and stays connected until `close()`, so the Workers page shows it live.
 */
export async function connectWorker(
  t: TestStack,
  apiKey: string,
  tenantId: string,
  workerId = "worker-001",
): Promise<{ close: () => Promise<void> }> {
  const exchanged = await t.exchange(apiKey, tenantId);
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  const client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
  await waitForIngest(client);
  const stream = new WorkerStream(client, String(exchanged.body["accessToken"]));
  const ago = (s: number) => new Date(Date.now() - s * 1000);
  await stream.exchange(
    makeBatch({
      workerId,
      siteId: "s-1",
      cameraId: "cam-entrance",
      observations: [
        // Untracked ones as a worker in basic mode sends them: no track, no quality score.
        makeObservation({ capturedAt: ago(40), thumbnailJpeg: faceThumbnail(), frameSeq: 1, quality: 0 }),
        makeObservation({ capturedAt: ago(20), thumbnailJpeg: faceThumbnail(), frameSeq: 2, trackId: 1 }),
      ],
    }),
    makeBatch({
      workerId,
      siteId: "s-1",
      cameraId: "cam-lobby",
      observations: [
        makeObservation({ capturedAt: ago(5), thumbnailJpeg: faceThumbnail(), frameSeq: 3, quality: 0 }),
      ],
    }),
  );
  return {
    async close() {
      await stream.finish();
      client.close();
    },
  };
}

/** A figure worth reading in the run's output (budgets), printed as a TAP diagnostic line. */
export function report(line: string): void {
  console.log(`# ${line}`);
}

/** What makes a page interactive: its table shows `rows` rows, done loading, and `button` is enabled. */
export interface InteractiveWhen {
  /** The page's path, e.g. `/api-keys`. */
  path: string;
  /** CSS class of its ResourceTable, e.g. `.api-keys-table`. */
  table: string;
  rows: number;
  /** The label of the page's main action, which must be enabled. */
  button: string;
}

/** The API Keys page: rows of the keys made, and Create API Key enabled. */
export const API_KEYS_PAGE = (rows: number): InteractiveWhen => ({
  path: "/api-keys",
  table: ".api-keys-table",
  rows,
  button: "Create API Key",
});

/**
 * Cold loads of a page by a signed-in admin (fresh browser context: empty cache, session cookie
 * only), each timed inside the page from navigation start until it is interactive (InteractiveWhen).
 * Every load must be free of problems. One sign-in serves every load (sign-ins are rate-limited);
 * `beforeEachLoad` lets the benchmark interleave its baseline. Shared by the end-to-end test and
 * `npm run bench -w @facerec/web`, which holds the results to their budgets.
 */
export async function interactiveMs(
  browser: Browser,
  t: TestStack,
  when: InteractiveWhen,
  opts: { loads: number; beforeEachLoad?: () => Promise<void> },
): Promise<number[]> {
  const first = await newContext(browser, t);
  const signInPage = await first.newPage();
  await signInPage.goto("/sign-in");
  await signIn(signInPage);
  let state = await first.storageState();
  await first.close();
  const runs: number[] = [];
  for (let load = 0; load < opts.loads; load++) {
    await opts.beforeEachLoad?.();
    const c = await newContext(browser, t, { storageState: state });
    const page = await c.newPage();
    const watcher = new ProblemWatcher(page);
    await page.addInitScript(({ table, rows, button }: InteractiveWhen) => {
      const w = window as unknown as { __interactiveAt?: number };
      const check = () => {
        if (w.__interactiveAt !== undefined) return;
        const shown = document.querySelectorAll(`${table} tbody tr`);
        const loading = document.querySelector(`${table} .n-data-table__loading-wrapper`);
        const action = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === button);
        // performance.now() counts from the navigation's timeOrigin.
        if (shown.length >= rows && !loading && action && !action.disabled)
          w.__interactiveAt = performance.now();
      };
      new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
    }, when);
    await page.goto(when.path);
    const at = await page.waitForFunction(
      () => (window as unknown as { __interactiveAt?: number }).__interactiveAt,
    );
    runs.push(Math.round(Number(await at.jsonValue())));
    await page.getByRole("button", { name: when.button }).first().click({ trial: true });
    watcher.assertClean(`the page ${when.path}`);
    // The refresh cookie rotated: the next load starts from this context's cookies.
    state = await c.storageState();
    await c.close();
  }
  return runs;
}

export const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
