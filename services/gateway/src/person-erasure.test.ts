/**
 * Deleting a person erases them from the observations (issue 10 item 7), and faces are enrolled
 * and searched from streamed events and tracks (items 2 and 5), end to end with real parts: REST →
 * gateway → people (the worker's real detector and dlib embedder) → ingest over gRPC → the embedded
 * database. A worker stream sends embeddings (and aligned-crop thumbnails) of OTHER photos of the
 * person, made by the worker's own detector, aligner and embedder. Photos: dlib's examples/johns.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { FaceObservation, IngestServiceClient } from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import {
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
import { identityPhotos } from "@facerec/worker/src/test-support/face-datasets.ts";
import { requireModel, TEST_MODELS_DIR } from "@facerec/worker/src/test-support/models.ts";
import { decodeImage } from "@facerec/worker/src/test-support/photos.ts";
import { encodeThumbnail } from "@facerec/worker/src/thumbnails.ts";
import { placeFace } from "@facerec/worker/tools/eval/identity-eval.ts";

interface Event {
  id: string;
  cameraId: string;
  capturedAt: string;
  trackId: string;
  quality: number;
  personId: string | null;
  similarity: number | null;
  faceId: string | null;
  thumbnailUrl: string | null;
}
interface Sighting {
  id: string;
  personId: string | null;
  bestSimilarity: number | null;
  cameraId: string;
  observations: number;
}
interface AuditEvent {
  action: string;
  targetId: string;
  changes: { field: string; oldValue: string; newValue: string }[];
}
interface Face {
  id: string;
  eventId: string | null;
  embeddings: { model: string }[];
}

/** A face of one photo as a worker streams it: dlib embedding and the aligned crop as thumbnail. */
interface Probe {
  embedding: Buffer;
  thumbnail: Buffer;
}

describe("erasure of deleted people, and enrolment and search from events", () => {
  let t: TestStack;
  let admin: string;
  let ingest: IngestServiceClient;
  let stream: WorkerStream;
  let workerToken: string;
  /** The photo enrolled, and other photos of the same person. */
  let photoFile: string;
  const probes: Probe[] = [];

  const observation = (probe: Probe, at: number, overrides: Partial<FaceObservation> = {}) =>
    makeObservation({
      embedding: probe.embedding,
      embeddingDim: 128,
      model: MODELS.dlib.id,
      capturedAt: new Date(at),
      thumbnailJpeg: probe.thumbnail,
      ...overrides,
    });
  const createPerson = async (displayName: string) => {
    const res = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: admin,
      body: { displayName },
    });
    assert.equal(res.status, 201);
    return res.body.person.id;
  };
  const enrolPhoto = async (personId: string) => {
    const form = new FormData();
    form.set("image", new Blob([readFileSync(photoFile)]), "photo.jpg");
    const res = await fetch(`${t.url}/v1/people/${personId}/faces`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
      body: form,
    });
    assert.equal(res.status, 201, await res.clone().text());
  };
  const events = async (query: string) =>
    (await t.api<{ events: Event[] }>("GET", `/v1/events?${query}`, { token: admin })).body.events;
  const sightings = async (query: string) =>
    (await t.api<{ sightings: Sighting[] }>("GET", `/v1/sightings?${query}`, { token: admin })).body
      .sightings;
  const audit = async () =>
    (await t.api<{ auditEvents: AuditEvent[] }>("GET", "/v1/audit-events?pageSize=200", { token: admin }))
      .body.auditEvents;
  /** Streams the person's other photos at `cameraId` until one is matched to `personId`; returns what was sent. */
  const streamUntilMatched = async (cameraId: string, personId: string) => {
    const start = Date.now();
    let sent = 0;
    await until(`an event of ${cameraId} matched to the person`, async () => {
      await stream.exchange(
        makeBatch({
          cameraId,
          observations: [observation(probes[sent++ % probes.length]!, start + sent * 100)],
        }),
      );
      return (await events(`cameraId=${cameraId}&personId=${personId}`)).length > 0;
    });
    // Two more, so the person's sighting holds several observations.
    await stream.exchange(
      makeBatch({
        cameraId,
        observations: [observation(probes[1]!, start + 5000), observation(probes[2]!, start + 6000)],
      }),
    );
    return sent + 2;
  };

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
      const aligned = alignFace(placed.frame, placed.face.landmarks, embedder.crop);
      const [vector] = await embedder.embed([aligned]);
      probes.push({
        embedding: Buffer.from(vector!.buffer, vector!.byteOffset, vector!.byteLength),
        thumbnail: Buffer.from(encodeThumbnail(aligned)),
      });
    }
    await Promise.all([detector.close(), embedder.close()]);
    t = await startTestStack();
    admin = await t.login();
    ingest = ingestClient(`127.0.0.1:${t.stack.ports.ingest}`);
    await waitForIngest(ingest);
    workerToken = (await keyToken(t, admin)).token;
    stream = new WorkerStream(ingest, workerToken);
  });
  after(async () => {
    stream?.cancel();
    ingest?.close();
    await t?.stop();
  });

  it("deleting a person keeps their events and sightings unmatched, audits both, and matches nothing to them after", async () => {
    const personId = await createPerson("Erased Unmatched");
    await enrolPhoto(personId);
    const sent = await streamUntilMatched("cam-clear", personId);
    const matched = await events(`cameraId=cam-clear&personId=${personId}`);
    assert.ok(matched.length >= 3, `${matched.length} matched events`);
    const theirs = await sightings(`personId=${personId}`);
    assert.ok(theirs.length > 0);
    // The People list says when and where each was last seen, in one call to ingest.
    const unseen = await createPerson("Never Seen Here");
    const listed = await t.api<{ people: { id: string; lastSighting: Sighting | null }[] }>(
      "GET",
      "/v1/people",
      {
        token: admin,
      },
    );
    const row = listed.body.people.find((p) => p.id === personId);
    assert.equal(row?.lastSighting?.id, theirs[0]!.id);
    assert.equal(row?.lastSighting?.cameraId, "cam-clear");
    assert.equal(listed.body.people.find((p) => p.id === unseen)?.lastSighting, null);

    const deleted = await t.api("DELETE", `/v1/people/${personId}`, { token: admin });
    assert.equal(deleted.status, 204);

    // Ingest confirmed within the request: nothing names them any more, and nothing was lost.
    assert.deepEqual(await events(`personId=${personId}`), []);
    const kept = await events("cameraId=cam-clear");
    assert.equal(kept.length, sent);
    assert.ok(kept.every((e) => e.personId === null && e.similarity === null && e.faceId === null));
    assert.ok(
      kept.every((e) => e.thumbnailUrl !== null),
      "thumbnails stay with unmatched events",
    );
    assert.deepEqual(await sightings(`personId=${personId}`), []);
    const unknown = await sightings("cameraId=cam-clear");
    assert.ok(unknown.length > 0 && unknown.every((s) => s.personId === null && s.bestSimilarity === null));
    assert.equal(
      unknown.reduce((n, s) => n + s.observations, 0),
      sent,
      "every observation still in a sighting",
    );

    // The same face streamed now matches nobody.
    await stream.exchange(
      makeBatch({ cameraId: "cam-after", observations: [observation(probes[0]!, Date.now())] }),
    );
    const [later] = await events("cameraId=cam-after");
    assert.equal(later?.personId, null);

    const log = await audit();
    assert.ok(log.some((e) => e.action === "person.deleted" && e.targetId === personId));
    const erased = log.find((e) => e.action === "person.observations_erased" && e.targetId === personId);
    assert.ok(erased, "the erasure is audited");
    assert.deepEqual(
      erased.changes.map((c) => [c.field, c.oldValue]),
      [
        ["unmatchedEvents", String(matched.length)],
        ["unmatchedSightings", String(theirs.length)],
      ],
    );
  });

  it("purgeSightings=true deletes the events and sightings matched to them, with their thumbnails, and nothing else", async () => {
    const personId = await createPerson("Erased Purged");
    await enrolPhoto(personId);
    await stream.exchange(
      makeBatch({
        cameraId: "cam-purge",
        observations: [
          makeObservation({ embedding: randomEmbedding(128), embeddingDim: 128, model: MODELS.dlib.id }),
        ],
      }),
    );
    await streamUntilMatched("cam-purge", personId);
    const matched = await events(`cameraId=cam-purge&personId=${personId}`);
    const thumbnail = matched[0]!.thumbnailUrl!;
    assert.equal(
      (await fetch(`${t.url}${thumbnail}`, { headers: { authorization: `Bearer ${admin}` } })).status,
      200,
    );

    const deleted = await t.api("DELETE", `/v1/people/${personId}?purgeSightings=true`, { token: admin });
    assert.equal(deleted.status, 204);

    const left = await events("cameraId=cam-purge");
    // The unknown face and the probes streamed before the gallery had the person stay, unmatched.
    assert.ok(left.length >= 1 && left.every((e) => e.personId === null));
    assert.ok(
      left.every((e) => !matched.some((m) => m.id === e.id)),
      "no matched event is left",
    );
    assert.equal(
      (await fetch(`${t.url}${thumbnail}`, { headers: { authorization: `Bearer ${admin}` } })).status,
      404,
    );
    assert.deepEqual(await sightings(`personId=${personId}`), []);
    assert.ok((await sightings("cameraId=cam-purge")).every((s) => s.personId === null));
    const erased = (await audit()).find(
      (e) => e.action === "person.observations_erased" && e.targetId === personId,
    );
    assert.equal(erased?.changes[0]?.field, "deletedEvents");
    assert.equal(erased?.changes[0]?.oldValue, String(matched.length));
  });

  it("an erasure requested while ingest is down completes once ingest is back", async () => {
    const personId = await createPerson("Erased During Outage");
    await enrolPhoto(personId);
    await streamUntilMatched("cam-outage", personId);
    // Past the sightings' once-a-second snapshot, so the restarted ingest rebuilds them.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stream.cancel();
    await t.stack.kill("ingest");

    const deleted = await t.api("DELETE", `/v1/people/${personId}`, { token: admin });
    assert.equal(deleted.status, 204, "the person is deleted while ingest is down");
    assert.equal((await t.api("GET", `/v1/people/${personId}`, { token: admin })).status, 404);

    await t.stack.start("ingest");
    await t.stack.waitUntilReady(30_000);
    await waitForIngest(ingest);
    stream = new WorkerStream(ingest, workerToken);
    await until(
      "the erasure done by the retries",
      async () =>
        (await audit()).some((e) => e.action === "person.observations_erased" && e.targetId === personId),
      90_000,
    );
    assert.deepEqual(await events(`personId=${personId}`), []);
    const kept = await events("cameraId=cam-outage");
    assert.ok(kept.length >= 3 && kept.every((e) => e.personId === null));
    assert.deepEqual(await sightings(`personId=${personId}`), []);
  });

  it("enrols a streamed event's face and a track's best faces, and searches by event", async () => {
    // An unknown face streamed with its thumbnail: "this face is Alice".
    const at = Date.now();
    await stream.exchange(
      makeBatch({
        workerId: "w-enrol",
        cameraId: "cam-enrol",
        observations: [
          observation(probes[0]!, at, { trackId: 0 }),
          observation(probes[1]!, at + 10, { trackId: 0, thumbnailJpeg: Buffer.alloc(0) }),
        ],
      }),
    );
    const streamed = await events("cameraId=cam-enrol");
    const withThumbnail = streamed.find((e) => e.thumbnailUrl)!;
    const withoutThumbnail = streamed.find((e) => !e.thumbnailUrl)!;
    const personId = await createPerson("Enrolled From Events");
    const enrolled = await t.api<{ face: Face; faces: Face[] }>("POST", `/v1/people/${personId}/faces`, {
      token: admin,
      body: { eventId: withThumbnail.id },
    });
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
    assert.equal(enrolled.body.face.eventId, withThumbnail.id);
    assert.deepEqual(
      enrolled.body.face.embeddings.map((e) => e.model),
      [MODELS.dlib.id],
    );
    const crop = await fetch(`${t.url}/v1/people/${personId}/faces/${enrolled.body.face.id}/thumbnail`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(crop.status, 200);
    assert.deepEqual(Buffer.from(await crop.arrayBuffer()), probes[0]!.thumbnail);

    // Refusals: no thumbnail, unknown event, another tenant's event.
    const bare = await t.api<{ code: string }>("POST", `/v1/people/${personId}/faces`, {
      token: admin,
      body: { eventId: withoutThumbnail.id },
    });
    assert.equal(bare.status, 422);
    assert.equal(bare.body.code, "event_without_thumbnail");
    const unknown = await t.api<{ code: string }>("POST", `/v1/people/${personId}/faces`, {
      token: admin,
      body: { eventId: "2026010100-AAAAAAAAAAAAAAAAAAAAAA" },
    });
    assert.equal(unknown.status, 404);
    const otherAdmin = await t.createTenant("t-erasure-other");
    const otherPerson = await t.api<{ person: { id: string } }>("POST", "/v1/people", {
      token: otherAdmin,
      body: { displayName: "Elsewhere" },
    });
    const foreign = await t.api("POST", `/v1/people/${otherPerson.body.person.id}/faces`, {
      token: otherAdmin,
      body: { eventId: withThumbnail.id },
    });
    assert.equal(foreign.status, 404, "another tenant's event is not found");

    // Search by the event without a thumbnail: its embedding finds the person enrolled from the other.
    const search = await t.api<{
      eventId: string;
      searchedFace: null;
      matches: { person: { id: string }; similarity: number }[];
    }>("POST", "/v1/faces/search", { token: admin, body: { eventId: withoutThumbnail.id, maxResults: 3 } });
    assert.equal(search.status, 200, JSON.stringify(search.body));
    assert.equal(search.body.eventId, withoutThumbnail.id);
    assert.equal(search.body.searchedFace, null);
    assert.equal(search.body.matches[0]?.person.id, personId);
    const { similarity } = search.body.matches[0]!;
    assert.ok(similarity > 0.5 && similarity <= 1, `similarity ${similarity}`);
    // With the most similar stored events of the last hour (the earlier tests streamed these photos
    // too): the other photo's event among them, not the one searched with.
    const withEvents = await t.api<{
      events: { event: { id: string; thumbnailUrl: string | null }; similarity: number }[];
      eventsCompared: number;
      eventsTruncated: boolean;
    }>("POST", "/v1/faces/search", {
      token: admin,
      body: { eventId: withoutThumbnail.id, includeEvents: true, maxEvents: 50 },
    });
    assert.equal(withEvents.status, 200, JSON.stringify(withEvents.body));
    const foundIds = withEvents.body.events.map((m) => m.event.id);
    assert.ok(foundIds.includes(withThumbnail.id), JSON.stringify(withEvents.body));
    assert.ok(!foundIds.includes(withoutThumbnail.id), "not the event searched with");
    assert.ok(withEvents.body.events.length <= 50);
    const scores = withEvents.body.events.map((m) => m.similarity);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      "best first",
    );
    assert.ok(withEvents.body.eventsCompared >= 2 && !withEvents.body.eventsTruncated);
    const tooLong = await t.api<{ code: string }>("POST", "/v1/faces/search", {
      token: admin,
      body: { eventId: withoutThumbnail.id, includeEvents: true, eventsWithinHours: 25 },
    });
    assert.equal(tooLong.status, 400);

    // A track: three shots, two within a second of each other: the best of those two and the third.
    await stream.exchange(
      makeBatch({
        workerId: "w-enrol",
        cameraId: "cam-track",
        observations: [
          observation(probes[0]!, at, { trackId: 77, quality: 0.5 }),
          observation(probes[1]!, at + 400, { trackId: 77, quality: 0.9 }),
          observation(probes[2]!, at + 2000, { trackId: 77, quality: 0.7 }),
          observation(probes[2]!, at + 2100, { trackId: 78, quality: 0.99 }),
        ],
      }),
    );
    const trackPerson = await createPerson("Enrolled From A Track");
    const fromTrack = await t.api<{ faces: Face[] }>("POST", `/v1/people/${trackPerson}/faces`, {
      token: admin,
      body: { workerId: "w-enrol", trackId: "77" },
    });
    assert.equal(fromTrack.status, 201, JSON.stringify(fromTrack.body));
    const trackEvents = await events("cameraId=cam-track");
    const idAt = (offset: number) => trackEvents.find((e) => Date.parse(e.capturedAt) === at + offset)?.id;
    assert.deepEqual(
      fromTrack.body.faces.map((f) => f.eventId),
      [idAt(400), idAt(2000)],
      JSON.stringify(
        trackEvents.map((e) => [e.id, e.capturedAt, e.trackId, e.quality, e.thumbnailUrl !== null]),
      ),
    );
    const noTrack = await t.api("POST", `/v1/people/${trackPerson}/faces`, {
      token: admin,
      body: { workerId: "w-enrol", trackId: 12345 },
    });
    assert.equal(noTrack.status, 404);
    const invalid = await t.api<{ code: string }>("POST", `/v1/people/${trackPerson}/faces`, {
      token: admin,
      body: { workerId: "w-enrol" },
    });
    assert.equal(invalid.status, 400);
  });
});
