/**
 * Sightings live against the real stack: an admin enrols the astronaut (python3-skimage) through the
 * People pages, opens Sightings, and a worker then streams that face (embedded by the worker's own
 * detector, aligner and dlib embedder) and a stranger's: the person's sighting appears at the top
 * without a reload, named, with a watchlist toast; the stranger's reads "Unknown". Screenshots at
 * desktop and phone width; the Recognition settings page is looked at too.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { freePort } from "@facerec/shared/net.ts";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
  faceThumbnail,
  ingestClient,
  keyToken,
  makeBatch,
  makeObservation,
  randomEmbedding,
  WorkerStream,
  waitForIngest,
} from "@facerec/shared/stack/test-worker.ts";
import { until } from "@facerec/shared/test-support/until.ts";
import { alignFace } from "@facerec/worker/src/aligner.ts";
import { BlazeFaceDetector } from "@facerec/worker/src/detectors/blazeface.ts";
import { openEmbedder } from "@facerec/worker/src/embedders/index.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { decodeImage } from "@facerec/worker/src/test-support/photos.ts";
import { placeFace } from "@facerec/worker/tools/eval/identity-eval.ts";
import type { Browser } from "playwright-core";
import {
  assertFreshBuild,
  launchBrowser,
  newContext,
  ProblemWatcher,
  report,
  screenshot,
  seenText,
  signIn,
} from "./support.ts";

const ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
const NAME = "Eileen Collins";

/** The astronaut's face as a worker streams it: dlib's 128-d embedding of the aligned crop. */
async function astronautEmbedding(): Promise<Buffer> {
  requireModel(MODELS.dlib);
  requireModel(MODELS.blazefaceBack);
  const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
  const embedder = await openEmbedder("dlib", TEST_MODELS_DIR);
  try {
    const placed = await placeFace(detector, decodeImage(ASTRONAUT), 150);
    assert.ok(placed, "the worker's detector finds the astronaut");
    const [vector] = await embedder.embed([alignFace(placed.frame, placed.face.landmarks, embedder.crop)]);
    return Buffer.from(vector!.buffer, vector!.byteOffset, vector!.byteLength);
  } finally {
    await Promise.all([detector.close(), embedder.close()]);
  }
}

describe("sightings, live, against the real stack", () => {
  let t: TestStack;
  let browser: Browser;
  let embedding: Buffer;
  let ingestMetricsPort: number;

  /** Ingest's gallery, as its metrics tell: a face streamed before it arrives there is not matched. */
  async function ingestGalleryFaces(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${ingestMetricsPort}/metrics`)).text();
    const synced = /^facerec_ingest_gallery_synced (\d+)$/m.exec(text)?.[1] === "1";
    return synced ? Number(/^facerec_ingest_gallery_faces (\d+)$/m.exec(text)?.[1]) : 0;
  }

  before(async () => {
    assertFreshBuild();
    embedding = await astronautEmbedding();
    ingestMetricsPort = await freePort();
    t = await startTestStack({ INGEST_METRICS_PORT: String(ingestMetricsPort) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("shows the streamed face of an enrolled person as their sighting, live, and a stranger as Unknown", async () => {
    const admin = await t.login();
    const created = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: admin,
      body: { displayName: NAME, watchlist: true, labels: ["crew"] },
    });
    assert.equal(created.status, 201);
    const form = new FormData();
    form.set("image", new Blob([readFileSync(ASTRONAUT)], { type: "image/png" }), "astronaut.png");
    const enrolled = await fetch(`${t.url}/v1/people/${created.body.person.id}/faces`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
      body: form,
    });
    assert.equal(enrolled.status, 201, await enrolled.text());
    // Ingest follows the gallery within a second once subscribed; at start it may still be
    // connecting to the people service (backoff up to 2 s).
    await until("ingest's gallery holds the enrolled face", async () => (await ingestGalleryFaces()) >= 1);

    const context = await newContext(browser, t);
    const page = await context.newPage();
    const watcher = new ProblemWatcher(page);
    await page.goto("/sign-in");
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sightings" }).click();
    await page.getByRole("heading", { name: "Sightings", level: 1 }).waitFor();
    const live = page.locator(".live[role=status]");
    await live
      .filter({ hasText: /^\s*(Live|Reconnecting…|Live updates unavailable)\s*$/ })
      .waitFor({ timeout: 15_000 });
    if ((await seenText(live)) !== "Live") await screenshot(page, "desktop-sightings-not-live");
    assert.equal(await seenText(live), "Live", `the feed: ${await live.getAttribute("title")}`);
    await page.getByText("No sightings match these filters.").waitFor();
    await screenshot(page, "desktop-sightings-empty");

    // A worker streams the astronaut's face, then a stranger's on another camera.
    const ingest = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(ingest);
    const stream = new WorkerStream(ingest, (await keyToken(t, admin)).token);
    const observation = (vector: Buffer, trackId: number) =>
      makeObservation({
        embedding: vector,
        embeddingDim: 128,
        model: MODELS.dlib.id,
        thumbnailJpeg: faceThumbnail(),
        trackId,
        capturedAt: new Date(),
      });
    const sent = Date.now();
    await stream.exchange(makeBatch({ cameraId: "cam-lobby", observations: [observation(embedding, 7)] }));
    const rows = page.locator(".sightings-table tbody tr");
    const known = rows.filter({ hasText: NAME });
    await known.waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      // Tell a feed that did not deliver from a sighting that was never made.
      const listed = await t.api("GET", "/v1/sightings", { token: admin });
      throw new Error(`no live row; GET /v1/sightings: ${JSON.stringify(listed.body)}`, { cause: error });
    });
    report(
      `a streamed face showed as a live sighting ${Date.now() - sent} ms after its batch was acknowledged`,
    );
    assert.match(await seenText(known), /cam-lobby/);
    await known.getByRole("img").waitFor();
    await page.getByText(`Watchlist: ${NAME} seen at`).waitFor();
    await screenshot(page, "desktop-sightings-live");

    const stranger = Buffer.from(randomEmbedding(128));
    await stream.exchange(makeBatch({ cameraId: "cam-yard", observations: [observation(stranger, 8)] }));
    const unknown = rows.filter({ hasText: "cam-yard" });
    await unknown.waitFor({ timeout: 15_000 });
    assert.match(await seenText(unknown), /Unknown/);
    assert.match(await seenText(rows.first()), /cam-yard/, "the newest sighting is on top");

    // Label the unknown face: its best crop is enrolled for the person picked by name.
    await unknown.getByRole("button", { name: "Add to person…" }).click();
    const label = page.getByRole("dialog").filter({ hasText: "Add this face to a person" });
    await label.getByLabel("Find a person by name").fill("Eil");
    await label.getByRole("button", { name: `Add to ${NAME}` }).waitFor();
    await screenshot(page, "desktop-sightings-add-to-person");
    await label.getByRole("button", { name: `Add to ${NAME}` }).click();
    await page.getByText(`Face added to ${NAME}`).waitFor({ timeout: 15_000 });
    const faces = await t.api<{ faces: { eventId: string | null }[] }>(
      "GET",
      `/v1/people/${created.body.person.id}/faces`,
      { token: admin },
    );
    assert.equal(faces.body.faces.length, 2, "the unknown sighting's face is now enrolled for them");
    const strangers = await t.api<{ sightings: { bestEventId: string }[] }>(
      "GET",
      "/v1/sightings?cameraId=cam-yard",
      {
        token: admin,
      },
    );
    assert.equal(
      faces.body.faces[1]!.eventId,
      strangers.body.sightings[0]!.bestEventId,
      "enrolled from the event",
    );

    // Only the unknown ones, then the person's page lists theirs.
    await page.getByText("Unknown", { exact: true }).first().waitFor();
    await page.getByRole("radio", { name: "Unknown" }).check({ force: true });
    await rows.filter({ hasText: NAME }).waitFor({ state: "detached" });
    assert.equal(await rows.count(), 1);
    await page.getByRole("radio", { name: "All" }).check({ force: true });
    await known.getByRole("link", { name: NAME }).click();
    await page.getByRole("heading", { name: NAME, level: 1 }).waitFor();
    await page.locator("ol.timeline li").filter({ hasText: "cam-lobby" }).waitFor();
    await screenshot(page, "desktop-person-with-sightings");

    await page.goto("/settings-recognition");
    await page.getByRole("heading", { name: "Recognition settings", level: 1 }).waitFor();
    await page.getByText(MODELS.dlib.id).waitFor();
    await screenshot(page, "desktop-recognition-settings");

    const phone = await newContext(browser, t, {
      viewport: "phone",
      storageState: await context.storageState(),
    });
    const phonePage = await phone.newPage();
    await phonePage.goto("/sightings");
    await phonePage.getByRole("heading", { name: "Sightings", level: 1 }).waitFor();
    await phonePage.locator(".sightings-table tbody tr").filter({ hasText: NAME }).waitFor();
    await screenshot(phonePage, "phone-sightings");
    await phonePage.goto("/settings-recognition");
    await phonePage.getByText("Save thresholds").waitFor();
    await screenshot(phonePage, "phone-recognition-settings");
    await phone.close();

    // A viewer reads the same pages without a control that changes anything.
    const viewerMade = await t.api("POST", "/v1/users", {
      token: admin,
      body: { email: "viewer@example.com", password: "viewer-password-for-e2e", role: "viewer" },
    });
    assert.equal(viewerMade.status, 201, JSON.stringify(viewerMade.body));
    const viewerContext = await newContext(browser, t);
    const viewerPage = await viewerContext.newPage();
    const viewerWatcher = new ProblemWatcher(viewerPage);
    await viewerPage.goto("/people");
    await signIn(viewerPage, "viewer@example.com", "viewer-password-for-e2e");
    await viewerPage.locator(".people-table tbody tr").filter({ hasText: NAME }).waitFor();
    for (const name of ["Add person", "Delete"])
      assert.equal(await viewerPage.getByRole("button", { name }).count(), 0, `no ${name} for a viewer`);
    await viewerPage.getByRole("link", { name: NAME }).click();
    await viewerPage.getByRole("img", { name: `Enrolled face 1 of ${NAME}` }).waitFor();
    for (const name of ["Edit", "Add face", "Delete person…", "Remove"])
      assert.equal(await viewerPage.getByRole("button", { name }).count(), 0, `no ${name} for a viewer`);
    assert.equal(await viewerPage.getByRole("switch").count(), 0, "no watchlist switch for a viewer");
    await viewerPage.getByRole("button", { name: "Find similar" }).first().waitFor();
    await screenshot(viewerPage, "desktop-viewer-person");
    viewerWatcher.assertClean("the People pages for a viewer");
    await viewerContext.close();

    // Erasure: the person is deleted with every observation and sighting matched to them.
    const people = await t.api<{ people: { lastSighting?: { cameraId: string } | null }[] }>(
      "GET",
      "/v1/people",
      {
        token: admin,
      },
    );
    assert.equal(people.body.people[0]?.lastSighting?.cameraId, "cam-lobby", JSON.stringify(people.body));
    // Through the sidebar: a reload would need the refresh cookie, which the phone context rotated.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "People" }).click();
    const listed = page.locator(".people-table tbody tr").filter({ hasText: NAME });
    await listed.waitFor();
    await screenshot(page, "desktop-people-last-seen");
    await listed.getByText("cam-lobby").waitFor();
    await listed.getByRole("button", { name: "Delete" }).click();
    const confirm = page.getByRole("dialog").filter({ hasText: `Delete "${NAME}"?` });
    await confirm.getByText("Also delete every observation and sighting matched to them").click();
    await screenshot(page, "desktop-people-delete-erasure");
    await confirm.getByRole("button", { name: "Delete person" }).click();
    await page.getByText(`Deleted "${NAME}" and the observations matched to them.`).waitFor();
    const personId = created.body.person.id;
    const left = await t.api<{ sightings: unknown[] }>("GET", `/v1/sightings?personId=${personId}`, {
      token: admin,
    });
    assert.deepEqual(left.body.sightings, [], "their sightings are gone");
    const lobby = await t.api<{ events: unknown[] }>("GET", "/v1/events?cameraId=cam-lobby", {
      token: admin,
    });
    assert.deepEqual(lobby.body.events, [], "their observations are gone");
    const yard = await t.api<{ events: { personId: string | null }[] }>(
      "GET",
      "/v1/events?cameraId=cam-yard",
      {
        token: admin,
      },
    );
    assert.equal(yard.body.events.length, 1, "the stranger's observation stays");

    stream.cancel();
    ingest.close();
    watcher.assertClean("the Sightings pages");
    await context.close();
  });
});
