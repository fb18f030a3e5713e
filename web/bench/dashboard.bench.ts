/**
 * `npm run bench -w @facerec/web` (root: `npm run bench:web`): the dashboard's load-time budget on
 * the local stack, started as `npm start` starts it, in Debian's Chromium.
 *   (a) baseline: a cold browser context's navigation to the gateway's /healthz (responseEnd), the
 *       floor any page load on this machine, at this moment, cannot beat;
 *   (b) the API Keys page from a cold cache until its rows show and Create API Key is enabled.
 * Loads alternate (a), (b) so both see the same machine load. Prints medians and (b)/(a), judges
 * (b) against the 1 s budget, and writes bench-results/web.json.
 */
import { verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { apiKeysInteractiveMs, launchBrowser, median, newContext, startStack } from "../e2e/support.ts";

const ROUNDS = 7;
const BUDGET_MS = 1000;

const [t, browser] = await Promise.all([startStack(), launchBrowser()]);
try {
  const admin = await t.login();
  for (const name of ["Production Worker 01", "Production Worker 02", "Development Worker", "Reporting"])
    await t.createKey(admin, { name, role: name === "Reporting" ? "viewer" : "worker" });

  const baseline: number[] = [];
  const coldNavigation = async () => {
    const c = await newContext(browser, t);
    const page = await c.newPage();
    await page.goto("/healthz");
    baseline.push(
      Math.round(
        await page.evaluate(
          () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseEnd,
        ),
      ),
    );
    await c.close();
  };
  const apiKeys = await apiKeysInteractiveMs(browser, t, {
    loads: ROUNDS,
    rows: 4,
    beforeEachLoad: coldNavigation,
  });
  const a = median(baseline);
  const b = median(apiKeys);
  const met = b < BUDGET_MS;
  console.log(`(a) cold navigation to /healthz: median ${a} ms of ${baseline.join(", ")} ms`);
  console.log(`(b) API Keys page interactive:   median ${b} ms of ${apiKeys.join(", ")} ms`);
  console.log(`(b)/(a) = ${(b / a).toFixed(1)}; budget (b) < ${BUDGET_MS} ms: ${verdict(met)}`);
  await writeBenchSummary("web", {
    benchmark: "dashboard load",
    date: new Date().toISOString(),
    rounds: ROUNDS,
    baselineColdNavigationMs: { median: a, runs: baseline },
    apiKeysInteractiveMs: { median: b, runs: apiKeys },
    ratio: b / a,
    budgetMs: BUDGET_MS,
    met,
  });
} finally {
  await browser.close();
  await t.stop();
}
