/**
 * `npm run bench:events`: event listing at volume, over the real REST path.
 *
 * Loads BENCH_EVENTS events (default 1,000,000: 512-d float32 embeddings as BinData, 20 workers,
 * 40 cameras on 4 sites, spread over the last 30 days, one in ten with a JPEG thumbnail; fewer
 * events keep the same events per hour over a shorter span) into a
 * fresh embedded database (or the MONGO_URL database, when set) through the ingest's own EventStore,
 * reports how long that took, then starts the stack on that database and measures, one request at a
 * time, p50/p95/p99 of GET /v1/events: the first page; pages filtered by worker, camera, site and a
 * 6-hour time range; 10 pages in a row (unfiltered and by camera). The baseline, measured in the same
 * run on the same path: GET /v1/events/{id}/thumbnail, one read by `_id` (the cheapest read there is).
 * Target: p95 <= 200 ms for every shape. Writes bench-results/events.json.
 *
 * Then sightings: BENCH_SIGHTINGS closed sightings (default 200,000 at 1M events, as many per hour
 * for fewer, over the same span and cameras,
 * one in five of one of 100 people) archived through ingest's own SightingStore, plus 200 open ones,
 * and the same measurement of GET /v1/sightings: first page, by camera, by person, unknown faces
 * only, a 6-hour range, 10 pages in a row. Same target, same baseline.
 */

import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FaceBatch, FaceObservation } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { SMOKE_RUN, verdict, writeBenchSummary } from "@facerec/shared/bench-results.ts";
import { connectDatabase } from "@facerec/shared/db/connect.ts";
import { type RunningFerretDb, startFerretDb } from "@facerec/shared/db/ferretdb.ts";
import { freePort } from "@facerec/shared/net.ts";
import { startTestStack } from "@facerec/shared/stack/test-stack.ts";
import { faceThumbnail, randomEmbedding } from "@facerec/shared/stack/test-worker.ts";
import { hourKey } from "../src/event-partitions.ts";
import { EventStore, eventId } from "../src/event-store.ts";
import { ingestModels } from "../src/models.ts";
import { type SightingDoc, SightingStore } from "../src/sightings/sighting-store.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? (SMOKE_RUN ? 2000 : 1_000_000));
const TARGET_EVENTS = 1_000_000;
/** 200,000 at the target's volume; smaller runs keep the density (sightings per hour). */
const SIGHTINGS = Number(
  process.env.BENCH_SIGHTINGS ??
    (SMOKE_RUN ? 400 : Math.round(200_000 * Math.min(1, EVENTS / TARGET_EVENTS))),
);
const OPEN_SIGHTINGS = SMOKE_RUN ? 20 : 200;
const PEOPLE = 100;
const SAMPLES = SMOKE_RUN ? 3 : 40;
const PAGE_RUNS = SMOKE_RUN ? 1 : 8;
const WORKERS = 20;
const CAMERAS = 40;
const SITES = 4;
const DAYS = 30;
/** The target's volume (TARGET_EVENTS): smaller runs keep its density (events per hour) over a shorter span. */
const OBSERVATIONS_PER_BATCH = 25;
const LOADERS = 4;
const TARGET_P95_MS = 200;
const TENANT = "t-default";
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
const round = (ms: number) => Math.round(ms * 10) / 10;

const workerOf = (camera: number) => `w-${String(Math.floor(camera / (CAMERAS / WORKERS))).padStart(2, "0")}`;
const siteOf = (camera: number) => `site-${Math.floor(camera / (CAMERAS / SITES))}`;
const cameraName = (camera: number) => `cam-${String(camera).padStart(2, "0")}`;

// The database: MONGO_URL's, or a fresh embedded FerretDB of this run's own.
let ferret: RunningFerretDb | undefined;
let dataDir: string | undefined;
let mongoUrl = process.env.MONGO_URL;
if (!mongoUrl) {
  dataDir = await mkdtemp(join(tmpdir(), "facerec-bench-events-"));
  ferret = await startFerretDb({ dataDir, port: await freePort() });
  mongoUrl = ferret.url;
}
console.log(`database: ${process.env.MONGO_URL ? "MONGO_URL" : "embedded FerretDB (SQLite), fresh"}`);
// Retention longer than the data, so no sweep runs into the measurement.
const t = await startTestStack({ EVENT_RETENTION_DAYS: String(DAYS + 2) }, { mongoUrl });

// --- load -----------------------------------------------------------------------------------------
const connection = await connectDatabase(mongoUrl, t.dbName, { callTimeoutMs: 120_000 });
const store = new EventStore(await ingestModels(connection));
const embeddings = Array.from({ length: 64 }, () => randomEmbedding(512));
const thumbnail = faceThumbnail();
const now = Date.now();
const spanMs = DAYS * DAY_MS * Math.min(1, EVENTS / TARGET_EVENTS);
const perCamera = Math.ceil(EVENTS / CAMERAS);
const batchesPerCamera = Math.ceil(perCamera / OBSERVATIONS_PER_BATCH);
const withThumbnail: string[] = [];

/** Batches in capture order across cameras, as live workers would send them. */
function* batches(): Generator<FaceBatch> {
  let made = 0;
  for (let round = 0; round < batchesPerCamera; round++) {
    for (let camera = 0; camera < CAMERAS && made < EVENTS; camera++) {
      const observations: FaceObservation[] = [];
      for (let i = 0; i < OBSERVATIONS_PER_BATCH && made < EVENTS; i++, made++) {
        const index = round * OBSERVATIONS_PER_BATCH + i;
        const at = now - spanMs + ((index + Math.random()) / perCamera) * spanMs;
        observations.push({
          capturedAt: new Date(Math.min(at, now - 1)),
          frameSeq: index,
          bbox: { x: 100, y: 80, width: 112, height: 128 },
          landmarks: [130, 120, 170, 120, 150, 145, 135, 170, 165, 170],
          detScore: 0.97,
          embedding: embeddings[index % embeddings.length]!,
          embeddingDim: 512,
          model: "insightface/w600k_r50",
          quality: 0.8,
          trackId: index,
          thumbnailJpeg: made % 10 === 0 ? thumbnail : Buffer.alloc(0),
        });
      }
      yield {
        batchId: crypto.randomUUID(),
        workerId: workerOf(camera),
        siteId: siteOf(camera),
        cameraId: cameraName(camera),
        observations,
      };
    }
  }
}

console.log(
  `loading ${EVENTS} events captured over ${round(spanMs / DAY_MS)} days (${LOADERS} concurrent writers, batches of ${OBSERVATIONS_PER_BATCH})`,
);
const origin = { tenantId: TENANT, keyId: "bench-key" };
const source = batches();
let loaded = 0;
const loadStarted = performance.now();
let lastReport = loadStarted;
await Promise.all(
  Array.from({ length: LOADERS }, async () => {
    for (let next = source.next(); !next.done; next = source.next()) {
      const batch = next.value;
      const { accepted } = await store.insertBatch(origin, batch, new Date());
      loaded += accepted;
      for (const [i, o] of batch.observations.entries()) {
        if (o.thumbnailJpeg.length > 0 && withThumbnail.length < 1000) {
          withThumbnail.push(eventId(TENANT, batch.batchId, i, o.capturedAt!));
        }
      }
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        const s = (lastReport - loadStarted) / 1000;
        console.log(`  ${loaded} events after ${Math.round(s)} s (${Math.round(loaded / s)}/s)`);
      }
    }
  }),
);
const loadSeconds = (performance.now() - loadStarted) / 1000;
console.log(
  `loaded ${loaded} events in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds)} events/s)`,
);

// Sightings over the same span and cameras, in capture order, archived as the tracker archives them.
const sightingStore = new SightingStore(await ingestModels(connection));
const personOf = (i: number) => (i % 5 === 0 ? `person-${String((i / 5) % PEOPLE).padStart(3, "0")}` : null);
const sightingAt = (i: number, at: number): SightingDoc => {
  const camera = i % CAMERAS;
  const span = 2000 + (i % 60) * 2000;
  const personId = personOf(i);
  return {
    _id: `${hourKey(at)}-${createHash("sha256").update(`bench ${i}`).digest("base64url").slice(0, 22)}`,
    tenantId: TENANT,
    subject: personId ? `p:${personId}` : `t:${workerOf(camera)}:${i}`,
    personId,
    trackId: i,
    workerId: workerOf(camera),
    siteId: siteOf(camera),
    cameraId: cameraName(camera),
    model: "insightface/w600k_r50",
    firstSeenAt: new Date(at),
    lastSeenAt: new Date(Math.min(at + span, now - 1)),
    observations: 1 + (i % 20),
    bestSimilarity: personId ? 0.9 + (i % 10) / 100 : null,
    bestEventId: withThumbnail[i % withThumbnail.length] ?? "",
    bestEventHasThumbnail: true,
    bestQuality: 0.8,
    bestDetScore: 0.97,
  };
};
const sightingsStarted = performance.now();
const SIGHTING_CHUNK = 2000;
for (let from = 0; from < SIGHTINGS; from += SIGHTING_CHUNK) {
  const chunk: SightingDoc[] = [];
  for (let i = from; i < Math.min(from + SIGHTING_CHUNK, SIGHTINGS); i++) {
    chunk.push(sightingAt(i, now - spanMs + (i / SIGHTINGS) * (spanMs - 10 * 60_000)));
  }
  await sightingStore.archive(chunk);
}
const open = Array.from({ length: OPEN_SIGHTINGS }, (_, i) => sightingAt(SIGHTINGS + i, now - 60_000 + i));
await sightingStore.writeSnapshot("bench-replica", open);
const sightingSeconds = (performance.now() - sightingsStarted) / 1000;
console.log(
  `archived ${SIGHTINGS} sightings and opened ${OPEN_SIGHTINGS} in ${sightingSeconds.toFixed(1)} s`,
);
await connection.close();

// --- measure --------------------------------------------------------------------------------------
const token = await t.login();
interface Sample {
  ms: number;
  events: number;
  /** HTTP status when not 200. */
  failed?: number;
}

async function get(path: string): Promise<Sample & { nextPageToken: string }> {
  const started = performance.now();
  const res = await fetch(`${t.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  const body: { events?: unknown[]; sightings?: unknown[]; nextPageToken?: string } = {};
  if ((res.headers.get("content-type") ?? "").includes("json")) Object.assign(body, await res.json());
  else await res.arrayBuffer();
  const ms = performance.now() - started;
  return {
    ms,
    events: body.events?.length ?? body.sightings?.length ?? 0,
    nextPageToken: body.nextPageToken ?? "",
    ...(res.status === 200 ? {} : { failed: res.status }),
  };
}

async function sample(pathOf: () => string, count = SAMPLES): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) samples.push(await get(pathOf()));
  return samples;
}

/** PAGE_RUNS walks of 10 pages in a row from the first; every page is one sample. */
async function tenPages(query: () => string, path = "/v1/events"): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let run = 0; run < PAGE_RUNS; run++) {
    const base = query();
    let pageToken = "";
    for (let page = 0; page < 10; page++) {
      const sep = base ? "&" : "?";
      const result = await get(`${path}${base}${pageToken ? `${sep}pageToken=${pageToken}` : ""}`);
      samples.push(result);
      pageToken = result.nextPageToken;
      if (!pageToken) break;
    }
  }
  return samples;
}

const someWorker = () => workerOf(Math.floor(Math.random() * CAMERAS));
const someCamera = () => cameraName(Math.floor(Math.random() * CAMERAS));
const someSite = () => siteOf(Math.floor(Math.random() * CAMERAS));
const someRange = () => {
  const from = now - spanMs + Math.random() * (spanMs - 6 * HOUR_MS);
  return `from=${new Date(from).toISOString()}&to=${new Date(from + 6 * HOUR_MS).toISOString()}`;
};

// Warm-up: connections, JIT, FerretDB's metadata.
await sample(() => "/v1/events", 3);
await sample(() => `/v1/events/${pick(withThumbnail)}/thumbnail`, 3);

const shapes: { name: string; target: boolean; samples: Sample[] }[] = [];
const measure = async (name: string, target: boolean, run: () => Promise<Sample[]>) => {
  shapes.push({ name, target, samples: await run() });
};
await measure("baseline: one event by id (thumbnail)", false, () =>
  sample(() => `/v1/events/${pick(withThumbnail)}/thumbnail`),
);
await measure("first page", true, () => sample(() => "/v1/events"));
await measure("by worker", true, () => sample(() => `/v1/events?workerId=${someWorker()}`));
await measure("by camera", true, () => sample(() => `/v1/events?cameraId=${someCamera()}`));
await measure("by site", true, () => sample(() => `/v1/events?siteId=${someSite()}`));
await measure("6-hour time range", true, () => sample(() => `/v1/events?${someRange()}`));
await measure("10 pages in a row", true, () => tenPages(() => ""));
await measure("10 pages in a row, by camera", true, () => tenPages(() => `?cameraId=${someCamera()}`));
await measure("first page with embeddings (not a target)", false, () =>
  sample(() => "/v1/events?includeEmbeddings=true", Math.ceil(SAMPLES / 4)),
);
await measure("unknown camera: a day read, empty page (not a target)", false, () =>
  sample(() => "/v1/events?cameraId=no-such-camera", Math.ceil(SAMPLES / 4)),
);
await sample(() => "/v1/sightings", 3);
await measure("sightings: first page", true, () => sample(() => "/v1/sightings"));
await measure("sightings: by camera", true, () => sample(() => `/v1/sightings?cameraId=${someCamera()}`));
await measure("sightings: by person", true, () =>
  sample(() => `/v1/sightings?personId=${personOf(5 * Math.floor(Math.random() * PEOPLE))}`),
);
await measure("sightings: unknown faces only", true, () => sample(() => "/v1/sightings?identified=false"));
await measure("sightings: 6-hour time range", true, () => sample(() => `/v1/sightings?${someRange()}`));
await measure("sightings: 10 pages in a row", true, () => tenPages(() => "", "/v1/sightings"));
await t.stop();
await ferret?.stop();
if (dataDir) await rm(dataDir, { recursive: true, force: true });

// --- report ---------------------------------------------------------------------------------------
const rows = shapes.map(({ name, target, samples }) => {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    name,
    target,
    requests: samples.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    eventsPerPage: round(samples.reduce((sum, s) => sum + s.events, 0) / samples.length),
    failures: samples.filter((s) => s.failed).map((s) => s.failed),
  };
});
const baselineP95 = rows[0]!.p95Ms;
console.log(
  `\nGET /v1/events over ${loaded} events (${WORKERS} workers, ${CAMERAS} cameras, ${SITES} sites, ${round(spanMs / DAY_MS)} days), one request at a time`,
);
console.log(
  `${"shape".padEnd(54)} ${"n".padStart(4)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"events".padStart(7)} ${"p95/base".padStart(9)}  verdict (p95 <= ${TARGET_P95_MS} ms)`,
);
const results = rows.map((r) => {
  const ratio = baselineP95 > 0 ? r.p95Ms / baselineP95 : 0;
  const met = r.p95Ms <= TARGET_P95_MS && r.failures.length === 0;
  console.log(
    `${r.name.padEnd(54)} ${String(r.requests).padStart(4)} ${String(r.p50Ms).padStart(8)} ${String(r.p95Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.eventsPerPage).padStart(7)} ${ratio.toFixed(1).padStart(9)}  ${r.target ? verdict(met) : "-"}${r.failures.length ? ` (${r.failures.length} failed: ${[...new Set(r.failures)].join(", ")})` : ""}`,
  );
  return { ...r, p95OverBaseline: Math.round(ratio * 100) / 100, ...(r.target ? { met } : {}) };
});
await writeBenchSummary("events", {
  database: process.env.MONGO_URL ? "MONGO_URL" : "ferretdb-sqlite",
  events: loaded,
  workers: WORKERS,
  cameras: CAMERAS,
  sites: SITES,
  days: round(spanMs / DAY_MS),
  loadSeconds: Math.round(loadSeconds * 10) / 10,
  loadEventsPerSecond: Math.round(loaded / loadSeconds),
  sightings: SIGHTINGS,
  openSightings: OPEN_SIGHTINGS,
  sightingLoadSeconds: Math.round(sightingSeconds * 10) / 10,
  targetP95Ms: TARGET_P95_MS,
  shapes: results,
  ...(SMOKE_RUN ? {} : { allTargetsMet: results.every((r) => r.met !== false) }),
});
