/**
 * `npm run bench -w @facerec/web` (root: `npm run bench:web`): the dashboard's load-time budgets on
 * the local stack, started as `npm start` starts it, in Debian's Chromium.
 *   (a) baseline: a cold browser context's navigation to the gateway's /healthz (responseEnd), the
 *       floor any page load on this machine, at this moment, cannot beat;
 *   (b) the API Keys page from a cold cache until its rows show and Create API Key is enabled;
 *   (c) the Sightings page, with SIGHTINGS sightings stored, until its first page shows and Apply is
 *       enabled;
 *   (d) the People page, with PEOPLE people and the same sightings, until its first page shows and
 *       Add person is enabled.
 * Each page's loads alternate with (a) so both see the same machine load. Prints medians and ratios
 * to (a), judges each page against the 1 s budget, and writes bench-results/web.json. The sightings
 * are real: a worker streams SIGHTINGS observations of distinct unknown faces (one track each) over
 * the last day at 20 cameras, and ingest rolls them up and archives them as it does any stream.
 */
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import type { TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  ingestClient,
  keyToken,
  makeBatch,
  makeObservation,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import {
  API_KEYS_PAGE,
  type InteractiveWhen,
  interactiveMs,
  launchBrowser,
  median,
  newContext,
  startStack,
} from "../e2e/support.ts";

const ROUNDS = SMOKE_RUN ? 1 : 7;
const BUDGET_MS = 1000;
const SIGHTINGS = SMOKE_RUN ? 500 : 10_000;
const PEOPLE = 50;
const CAMERAS = 20;
const OBSERVATIONS_PER_BATCH = 250;
const DAY_MS = 86_400_000;

/** Streams `count` observations, each a new unknown face, spread over the last day; resolves once acked. */
async function streamSightings(t: TestStack, admin: string, count: number): Promise<void> {
  const { token } = await keyToken(t, admin);
  const client = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
  await waitForIngest(client);
  const stream = new WorkerStream(client, token);
  const now = Date.now();
  const batches = [];
  for (let start = 0; start < count; start += OBSERVATIONS_PER_BATCH) {
    const camera = (start / OBSERVATIONS_PER_BATCH) % CAMERAS;
    const observations = Array.from({ length: Math.min(OBSERVATIONS_PER_BATCH, count - start) }, (_, i) =>
      makeObservation({
        trackId: start + i + 1,
        frameSeq: start + i + 1,
        // Oldest first, the last a minute ago: every sighting has ended, so ingest archives them all.
        capturedAt: new Date(now - 60_000 - ((count - start - i) / count) * (DAY_MS - 120_000)),
      }),
    );
    batches.push(makeBatch({ workerId: "bench-worker", cameraId: `camera-${camera}`, observations }));
  }
  const acks = await stream.exchange(...batches);
  const accepted = acks.reduce((n, a) => n + a.accepted, 0);
  if (accepted !== count)
    throw new Error(`stored ${accepted} of ${count} observations: ${JSON.stringify(acks[0])}`);
  await stream.finish();
  client.close();
}

/** Waits until the tenant's sightings reach `count` (ingest rolls observations up within seconds). */
async function waitForSightings(t: TestStack, admin: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    let seen = 0;
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ pageSize: "200", ...(pageToken ? { pageToken } : {}) });
      const page = await t.api<{ sightings: unknown[]; nextPageToken: string }>(
        "GET",
        `/v1/sightings?${query}`,
        {
          token: admin,
        },
      );
      seen += page.body.sightings.length;
      pageToken = page.body.nextPageToken || undefined;
    } while (pageToken && seen < count);
    if (seen >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${count} sightings after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const [t, browser] = await Promise.all([startStack(), launchBrowser()]);
try {
  const admin = await t.login();
  for (const name of ["Production Worker 01", "Production Worker 02", "Development Worker", "Reporting"])
    await t.createKey(admin, { name, role: name === "Reporting" ? "viewer" : "worker" });
  for (let i = 0; i < PEOPLE; i++) {
    const created = await t.api("POST", "/v1/people", {
      token: admin,
      body: { displayName: `Person ${String(i + 1).padStart(2, "0")}`, labels: i % 5 === 0 ? ["staff"] : [] },
    });
    if (created.status !== 201) throw new Error(`creating a person: ${created.status}`);
  }
  const seeding = performance.now();
  await streamSightings(t, admin, SIGHTINGS);
  await waitForSightings(t, admin, SIGHTINGS);
  console.log(
    `seeded ${SIGHTINGS} sightings and ${PEOPLE} people in ${Math.round(performance.now() - seeding)} ms`,
  );

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
  const timed = (when: InteractiveWhen) =>
    interactiveMs(browser, t, when, { loads: ROUNDS, beforeEachLoad: coldNavigation });

  const pages = {
    apiKeys: await timed(API_KEYS_PAGE(4)),
    sightings: await timed({
      path: "/sightings",
      table: ".sightings-table",
      rows: 25,
      button: "Apply",
    }),
    people: await timed({ path: "/people", table: ".people-table", rows: 25, button: "Add person" }),
  };
  const a = median(baseline);
  console.log(`(a) cold navigation to /healthz: median ${a} ms of ${baseline.join(", ")} ms`);
  const results = Object.entries(pages).map(([name, runs], i) => {
    const b = median(runs);
    const label = `(${"bcd"[i]}) ${name} page interactive:`.padEnd(34);
    const met = b < BUDGET_MS;
    console.log(
      `${label} median ${b} ms of ${runs.join(", ")} ms; ratio to (a) ${(b / a).toFixed(1)}; budget < ${BUDGET_MS} ms: ${verdict(met)}`,
    );
    return [name, { median: b, runs, ratio: b / a, met }] as const;
  });
  await writeBenchSummary("web", {
    benchmark: "dashboard load",
    date: new Date().toISOString(),
    rounds: ROUNDS,
    sightings: SIGHTINGS,
    people: PEOPLE,
    baselineColdNavigationMs: { median: a, runs: baseline },
    pagesInteractiveMs: Object.fromEntries(results),
    budgetMs: BUDGET_MS,
    met: results.every(([, r]) => r.met),
  });
} finally {
  await browser.close();
  await t.stop();
}
