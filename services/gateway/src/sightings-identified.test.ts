/**
 * Sightings of a recognised person, end to end with real parts: a person enrolled from a real photo
 * through REST, embeddings of OTHER photos of that person (the worker's own detector, aligner and
 * dlib embedder) streamed through StreamFaces, matched by ingest, rolled up into one sighting that
 * GET /v1/sightings and the SSE feed show with the person's name and watchlist flag.
 * Photos: dlib's examples/johns.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { FaceObservation, IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
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
import { alignFace } from "@facerec/worker/src/aligner.ts";
import { BlazeFaceDetector } from "@facerec/worker/src/detectors/blazeface.ts";
import { openEmbedder } from "@facerec/worker/src/embedders/index.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { identityPhotos } from "@facerec/worker/src/test-support/face-datasets.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { decodeImage } from "@facerec/worker/src/test-support/photos.ts";
import { placeFace } from "@facerec/worker/tools/eval/identity-eval.ts";

type Sighting = {
  id: string;
  personId: string | null;
  personName: string | null;
  watchlist: boolean;
  observations: number;
  bestSimilarity: number | null;
  cameraId: string;
};

describe("sightings of recognised people", () => {
  let t: TestStack;
  let admin: string;
  let viewer: string;
  let ingest: IngestServiceClient;
  let stream: WorkerStream;
  let photoFile: string;
  /** Embeddings of other photos of the same person. */
  const probes: Buffer[] = [];

  before(async () => {
    requireModel(MODELS.dlib);
    requireModel(MODELS.blazefaceBack);
    const photos = Map.groupBy(
      identityPhotos().filter((p) => p.file.includes("/johns/")),
      (p) => p.identity,
    );
    const own = [...photos.values()][0]!;
    photoFile = own[0]!.file;
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    const embedder = await openEmbedder("dlib", TEST_MODELS_DIR);
    for (const photo of own.slice(3, 6)) {
      const placed = await placeFace(detector, decodeImage(photo.file), 150);
      assert.ok(placed, `a face in ${photo.file}`);
      const [vector] = await embedder.embed([alignFace(placed.frame, placed.face.landmarks, embedder.crop)]);
      probes.push(Buffer.from(vector!.buffer, vector!.byteOffset, vector!.byteLength));
    }
    await Promise.all([detector.close(), embedder.close()]);
    t = await startTestStack();
    admin = await t.login();
    viewer = (await keyToken(t, admin, { role: "viewer" })).token;
    ingest = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(ingest);
    stream = new WorkerStream(ingest, (await keyToken(t, admin)).token);
  });
  after(async () => {
    stream?.cancel();
    ingest?.close();
    await t?.stop();
  });

  it("rolls a recognised person's observations into one sighting with their name and watchlist flag, listed and streamed", async () => {
    const created = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: admin,
      body: { displayName: "Davis King", watchlist: true },
    });
    assert.equal(created.status, 201);
    const personId = created.body.person.id;
    const form = new FormData();
    form.set("image", new Blob([readFileSync(photoFile)]), "photo.jpg");
    const enrolled = await fetch(`${t.url}/v1/people/${personId}/faces`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
      body: form,
    });
    assert.equal(enrolled.status, 201, await enrolled.clone().text());

    const feed = new AbortController();
    const response = await fetch(`${t.url}/v1/sightings/stream`, {
      headers: { authorization: `Bearer ${viewer}` },
      signal: feed.signal,
    });
    assert.equal(response.status, 200);
    let text = "";
    const reading = (async () => {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        text += decoder.decode(read.value, { stream: true });
      }
    })().catch(() => {});

    const observation = (embedding: Buffer, at: number, overrides: Partial<FaceObservation> = {}) =>
      makeObservation({
        embedding,
        embeddingDim: 128,
        model: MODELS.dlib.id,
        capturedAt: new Date(at),
        thumbnailJpeg: faceThumbnail(),
        ...overrides,
      });
    // The gallery reaches ingest within a second of the enrolment: stream until a face is matched.
    const start = Date.now();
    let sent = 0;
    const sighting = await until("a sighting of the person", async () => {
      await stream.exchange(
        makeBatch({
          cameraId: "cam-door",
          observations: [observation(probes[sent++ % 3]!, start + sent * 100)],
        }),
      );
      const page = await t.api<{ sightings: Sighting[] }>("GET", `/v1/sightings?personId=${personId}`, {
        token: viewer,
      });
      return page.body.sightings[0];
    });
    // Two more photos of them in the next seconds: the same sighting.
    await stream.exchange(
      makeBatch({
        cameraId: "cam-door",
        observations: [observation(probes[1]!, start + 5000), observation(probes[2]!, start + 6000)],
      }),
    );
    const [listed, ...others] = (
      await t.api<{ sightings: Sighting[] }>("GET", `/v1/sightings?personId=${personId}&identified=true`, {
        token: viewer,
      })
    ).body.sightings;
    assert.equal(others.length, 0);
    assert.equal(listed!.id, sighting.id);
    assert.equal(listed!.personName, "Davis King");
    assert.equal(listed!.watchlist, true);
    assert.equal(listed!.observations, sighting.observations + 2);
    assert.ok(listed!.bestSimilarity! > 0.9 && listed!.bestSimilarity! <= 1, `${listed!.bestSimilarity}`);
    // GET /v1/people/{id} carries the last sighting; someone never seen has none.
    const detail = await t.api<{ person: { lastSighting: Sighting | null } }>(
      "GET",
      `/v1/people/${personId}`,
      {
        token: viewer,
      },
    );
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.person.lastSighting, listed);
    const unseen = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: admin,
      body: { displayName: "Never Seen" },
    });
    const unseenDetail = await t.api<{ person: { lastSighting: Sighting | null } }>(
      "GET",
      `/v1/people/${unseen.body.person.id}`,
      { token: viewer },
    );
    assert.equal(unseenDetail.body.person.lastSighting, null);
    await until("the feed names the person", async () => text.includes(`"personName":"Davis King"`));
    assert.match(text, /event: sighting\.(started|updated)\nid: [^\n]+\ndata: \{[^\n]*"watchlist":true/);
    feed.abort();
    await reading;
  });
});
