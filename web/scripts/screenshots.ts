/**
 * Preview tool, not a test: renders every page of the built dashboard in Chromium at
 * desktop (1280×800) and phone (390×844) width, with the REST API answered by sample
 * data through page.route(), and saves PNGs for a person to look at.
 *
 *   npm run build && npm run screenshots   # → web/test-results/screenshots/*.png
 *
 * End-to-end tests against the real stack live elsewhere; nothing here asserts anything.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page, Route } from "playwright-core";
import { preview } from "vite";
import type { ApiKey, AuditEvent, FaceEvent, Worker } from "../src/api/types.ts";
import { faceEvent } from "../src/testing/fixtures.ts";
import { launchChromium } from "./chromium.ts";

const webDir = join(import.meta.dirname, "..");
const outDir = join(webDir, "test-results", "screenshots");
// A public-domain photo Debian's python3-skimage ships; without it thumbnails show placeholders.
const FACE_PNG = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const daysFromNow = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

interface Scenario {
  role: "admin" | "viewer";
  /** Endpoints that answer 404, as on a gateway without the ingest service yet. */
  missing: string[];
}

/** The API key fields the screenshots do not show off: no rotation, no limits. */
const KEY_DEFAULTS = {
  expiresSoon: false,
  rotatedAt: null,
  previousSecretExpiresAt: null,
  allowedSiteIds: [],
  allowedWorkerIds: [],
  allowedCidrs: [],
  stale: false,
} as const satisfies Partial<ApiKey>;

function sampleData() {
  const apiKeys: ApiKey[] = [
    {
      id: "k1",
      name: "Production Worker 01",
      role: "worker",
      ...KEY_DEFAULTS,
      prefix: "frk_7Hq2mX9pL4vA",
      active: true,
      status: "active",
      expiresAt: null,
      lastUsedAt: minutesAgo(2),
      lastUsedBy: { workerId: "entrance-cam-01", remoteAddress: "10.0.4.21" },
      createdAt: minutesAgo(60 * 24 * 40),
      createdBy: "u-1",
    },
    {
      id: "k2",
      name: "Production Worker 02",
      role: "worker",
      ...KEY_DEFAULTS,
      prefix: "frk_Qm9xR2tY8wKe",
      active: true,
      status: "active",
      expiresAt: daysFromNow(90),
      lastUsedAt: minutesAgo(60 * 5),
      lastUsedBy: { workerId: "lobby-cam-02", remoteAddress: "10.0.4.22" },
      createdAt: minutesAgo(60 * 24 * 12),
      createdBy: "u-1",
    },
    {
      id: "k3",
      name: "Development Worker",
      role: "worker",
      ...KEY_DEFAULTS,
      prefix: "frk_b81KzT5nQ0jH",
      active: false,
      status: "inactive",
      expiresAt: null,
      lastUsedAt: minutesAgo(60 * 24 * 9),
      lastUsedBy: null,
      createdAt: minutesAgo(60 * 24 * 30),
      createdBy: "u-1",
    },
    {
      id: "k4",
      name: "Reporting integration",
      role: "viewer",
      ...KEY_DEFAULTS,
      prefix: "frk_Zt4eU6hW3cPd",
      active: true,
      status: "expired",
      expiresAt: minutesAgo(60 * 24 * 3),
      lastUsedAt: null,
      lastUsedBy: null,
      createdAt: minutesAgo(60 * 24 * 60),
      createdBy: "u-1",
    },
  ];
  const workers: Worker[] = [
    {
      workerId: "worker-001",
      keyId: "k1",
      keyName: "Production Worker 01",
      siteId: "s-1",
      cameraId: "entrance",
      remoteAddress: "10.20.0.11",
      connectedSince: minutesAgo(180),
      lastBatchAt: minutesAgo(0.1),
      lastSeenAt: minutesAgo(0.05),
      observationsPerMinute: 37.5,
      streamCount: 1,
      connected: true,
      disconnectReason: null,
    },
    {
      workerId: "worker-002",
      keyId: "k2",
      keyName: "Production Worker 02",
      siteId: "s-1",
      cameraId: "lobby",
      remoteAddress: "10.20.0.12",
      connectedSince: minutesAgo(65),
      lastBatchAt: minutesAgo(1),
      lastSeenAt: minutesAgo(0.05),
      observationsPerMinute: 12,
      streamCount: 1,
      connected: true,
      disconnectReason: null,
    },
    {
      workerId: "worker-dev",
      keyId: "k3",
      keyName: "Development Worker",
      siteId: "s-lab",
      cameraId: "desk",
      remoteAddress: "192.168.1.40",
      connectedSince: null,
      lastBatchAt: minutesAgo(60 * 20),
      lastSeenAt: minutesAgo(60 * 20),
      observationsPerMinute: 0,
      streamCount: 0,
      connected: false,
      disconnectReason: "key_inactive",
    },
    {
      // Its key was deactivated 40 s ago: the last batch is 40 s old, not "just now".
      workerId: "worker-003",
      keyId: "k3",
      keyName: "Development Worker",
      siteId: "s-2",
      cameraId: "gate",
      remoteAddress: "10.20.0.13",
      connectedSince: null,
      lastBatchAt: minutesAgo(0.7),
      lastSeenAt: minutesAgo(0.67),
      observationsPerMinute: 0,
      streamCount: 0,
      connected: false,
      disconnectReason: "connection_lost",
    },
  ];
  const events: FaceEvent[] = Array.from({ length: 8 }, (_, i) =>
    faceEvent(`e${i}`, {
      batchId: `b${i}`,
      workerId: i % 2 ? "worker-002" : "worker-001",
      siteId: "s-1",
      cameraId: i % 2 ? "lobby" : "entrance",
      capturedAt: minutesAgo(i * 3 + 1),
      bbox: { x: 120, y: 80, width: 96, height: 110 },
      detScore: 0.97 - i * 0.02,
      // Rows 4 on come from a worker in basic mode (no tracking): quality and track not computed.
      quality: i < 4 ? 0.88 - i * 0.03 : 0,
      model: "dlib/resnet_v1",
      embeddingDim: 128,
      trackId: i < 4 ? String(100 + Math.floor(i / 2)) : "0",
      thumbnailUrl: i !== 5 ? `/v1/events/e${i}/thumbnail` : null,
    }),
  );
  const actor = {
    actorId: "u-1",
    actorType: "user" as const,
    displayName: "admin@localhost",
    remoteAddress: "203.0.113.7",
    userAgent: "Mozilla/5.0",
  };
  const auditEvents: AuditEvent[] = [
    {
      id: "a1",
      tenantId: "t-default",
      action: "api_key.deactivated",
      actor,
      targetType: "api_key",
      targetId: "k3",
      changes: [{ field: "active", oldValue: "true", newValue: "false" }],
      occurredAt: minutesAgo(30),
    },
    {
      id: "a2",
      tenantId: "t-default",
      action: "api_key.created",
      actor,
      targetType: "api_key",
      targetId: "k2",
      changes: [],
      occurredAt: minutesAgo(60 * 24 * 12),
    },
    {
      id: "a3",
      tenantId: "t-default",
      action: "user.signed_in",
      actor,
      targetType: "user",
      targetId: "u-1",
      changes: [],
      occurredAt: minutesAgo(60 * 24 * 12 + 2),
    },
    {
      id: "a4",
      tenantId: "t-default",
      action: "api_key.updated",
      actor: { ...actor, remoteAddress: "::1" },
      targetType: "api_key",
      targetId: "k4",
      changes: [{ field: "name", oldValue: "Reports", newValue: "Reporting integration" }],
      occurredAt: minutesAgo(60 * 24 * 20),
    },
  ];
  return { apiKeys, workers, events, auditEvents };
}

/** Answers /v1 like the gateway would, from memory. */
function sampleApi(scenario: Scenario) {
  const data = sampleData();
  let signedIn = false;
  const user = {
    id: "u-1",
    tenantId: "t-default",
    email: scenario.role === "admin" ? "admin@localhost" : "viewer@localhost",
    role: scenario.role,
    platformAdmin: scenario.role === "admin",
  };
  const session = { accessToken: "sample-token", tokenType: "Bearer", expiresIn: 900, user };
  const face = existsSync(FACE_PNG) ? readFileSync(FACE_PNG) : null;

  return async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    const path = url.pathname;
    const method = request.method();
    const reply = (status: number, body?: unknown) =>
      route.fulfill({
        status,
        contentType: status >= 400 ? "application/problem+json" : "application/json",
        body: body === undefined ? "" : JSON.stringify(body),
      });
    const notFound = () =>
      reply(404, { title: "Not Found", status: 404, code: "not_found", detail: "Not Found" });

    if (scenario.missing.some((p) => path.startsWith(p))) return notFound();
    if (path === "/v1/auth/refresh")
      return signedIn
        ? reply(200, session)
        : reply(401, { status: 401, code: "unauthenticated", detail: "No session" });
    if (path === "/v1/auth/login") {
      signedIn = true;
      return reply(200, session);
    }
    if (path === "/v1/auth/logout") return reply(204);
    if (path === "/v1/api-keys" && method === "GET")
      return reply(200, { apiKeys: data.apiKeys, nextPageToken: "" });
    if (path === "/v1/api-keys" && method === "POST") {
      const body = request.postDataJSON() as Pick<ApiKey, "name" | "role"> & { expiresAt?: string };
      const apiKey: ApiKey = {
        id: "k-new",
        name: body.name,
        role: body.role,
        ...KEY_DEFAULTS,
        prefix: "frk_N3wK8pQ2vR5s",
        active: true,
        status: "active",
        expiresAt: body.expiresAt ?? null,
        lastUsedAt: null,
        lastUsedBy: null,
        createdAt: new Date().toISOString(),
        createdBy: "u-1",
      };
      data.apiKeys.unshift(apiKey);
      return reply(201, { apiKey, key: "frk_N3wK8pQ2vR5sT9wX1yZ4aB7cD0eF3gH6jK_2f9c" });
    }
    if (path === "/v1/workers") return reply(200, { workers: data.workers });
    if (path === "/v1/events") return reply(200, { events: data.events, nextPageToken: "next" });
    if (path.startsWith("/v1/events/") && path.endsWith("/thumbnail")) {
      return face ? route.fulfill({ status: 200, contentType: "image/png", body: face }) : notFound();
    }
    if (path === "/v1/audit-events") return reply(200, { auditEvents: data.auditEvents, nextPageToken: "" });
    return notFound();
  };
}

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
type ViewportName = keyof typeof VIEWPORTS;

async function openPage(browser: Browser, baseUrl: string, viewport: ViewportName, scenario: Scenario) {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport], baseURL: baseUrl });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      console.log(`  [${viewport} console ${m.type()}] ${m.text()}`);
  });
  page.on("pageerror", (e) => console.log(`  [${viewport} page error] ${e.message}`));
  await page.route("**/v1/**", sampleApi(scenario));
  return page;
}

/** Whole pages for lists; dialogs as the viewport shows them (a full-page capture misplaces overlays). */
async function shoot(page: Page, name: string, viewport: ViewportName, fullPage = true): Promise<void> {
  // Let transitions finish and relative times render before capturing.
  await page.waitForTimeout(400);
  const file = join(outDir, `${name}-${viewport}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`  ${file}`);
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel("Email").fill("admin@localhost");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/api-keys$/);
  // The gateway's session marker, which page.route() replies cannot set: later page loads restore
  // the session through /v1/auth/refresh only when it is there.
  await page.context().addCookies([{ name: "facerec_session", value: "1", url: page.url() }]);
}

async function adminTour(browser: Browser, baseUrl: string, viewport: ViewportName): Promise<void> {
  const page = await openPage(browser, baseUrl, viewport, { role: "admin", missing: [] });
  await page.goto("/api-keys");
  await page.waitForURL(/\/sign-in\?redirect=/);
  await shoot(page, "sign-in", viewport);

  await signIn(page);
  await page.getByText("Production Worker 02").waitFor();
  await shoot(page, "api-keys", viewport);

  await page.getByRole("button", { name: "Create API Key" }).first().click();
  await page.getByLabel("Name").fill("Production Worker 03");
  await shoot(page, "api-keys-create", viewport, false);
  await page.getByRole("dialog").getByRole("button", { name: "Create API Key" }).click();
  await page.getByText("Copy this key now").waitFor();
  await shoot(page, "api-keys-created", viewport, false);
  await page.getByRole("button", { name: "I have copied the key" }).click();

  await page.getByRole("button", { name: "Edit Production Worker 02" }).click();
  await page.getByRole("dialog").waitFor();
  await shoot(page, "api-keys-edit", viewport, false);
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  await page.getByRole("button", { name: "Extend Reporting integration" }).click();
  await page.getByText("This key has expired").waitFor();
  await shoot(page, "api-keys-extend", viewport, false);
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  await page.getByRole("button", { name: "Delete Development Worker" }).click();
  await page.getByText("Deleted keys cannot be recovered").waitFor();
  await shoot(page, "api-keys-delete", viewport, false);
  await page.getByRole("button", { name: "Cancel" }).click();

  if (viewport === "phone") {
    await page.getByRole("button", { name: "Open navigation" }).click();
    await page.getByRole("link", { name: "Workers" }).waitFor();
    await shoot(page, "navigation", viewport, false);
    await page.getByRole("link", { name: "Workers" }).click();
  } else {
    await page.getByRole("link", { name: "Workers" }).click();
  }
  await page.getByText("worker-001").waitFor();
  await shoot(page, "workers", viewport);

  await page.goto("/events?siteId=s-1");
  await page.locator("img.thumb").first().waitFor();
  await shoot(page, "events", viewport);
  await page.getByText("Exact", { exact: true }).click();
  await shoot(page, "events-exact", viewport);
  await page.getByText("Relative", { exact: true }).click();

  await page.goto("/audit-log");
  await page.getByText("API key deactivated").waitFor();
  await shoot(page, "audit-log", viewport);
  await page.context().close();
}

async function edgeCases(browser: Browser, baseUrl: string, viewport: ViewportName): Promise<void> {
  const missing = await openPage(browser, baseUrl, viewport, {
    role: "admin",
    missing: ["/v1/workers", "/v1/events"],
  });
  await missing.goto("/sign-in");
  await signIn(missing);
  await missing.goto("/workers");
  await missing.getByText("not available on this server yet").waitFor();
  await shoot(missing, "workers-unavailable", viewport);
  await missing.context().close();

  const viewer = await openPage(browser, baseUrl, viewport, { role: "viewer", missing: [] });
  await viewer.goto("/sign-in");
  await signIn(viewer);
  await viewer.getByText("Production Worker 02").waitFor();
  await shoot(viewer, "api-keys-viewer", viewport);
  await viewer.context().close();
}

mkdirSync(outDir, { recursive: true });
if (!existsSync(join(webDir, "dist", "index.html"))) {
  console.error("No build in web/dist: run `npm run build` first.");
  process.exit(2);
}
const server = await preview({ root: webDir, preview: { port: 4173, strictPort: false, open: false } });
const baseUrl = server.resolvedUrls?.local[0] ?? "http://localhost:4173/";
const browser = await launchChromium();
try {
  for (const viewport of ["desktop", "phone"] as const) {
    console.log(`${viewport}:`);
    await adminTour(browser, baseUrl, viewport);
    await edgeCases(browser, baseUrl, viewport);
  }
} finally {
  await browser.close();
  await server.close();
}
