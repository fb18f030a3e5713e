/**
 * People, enrolment from photos and gallery search, end to end: REST → gateway → gRPC → the people
 * service with the worker's real models → the real database, with real photos. Identity is judged
 * only on different photos of the same person (dlib's examples/johns).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { startTestStack, type TestStack } from "@facerec/shared/stack/test-stack.ts";
import { MODELS } from "@facerec/worker/src/models/manifest.ts";
import { identityPhotos } from "@facerec/worker/src/test-support/face-datasets.ts";
import { requireModel } from "@facerec/worker/src/test-support/models.ts";
import { ASTRONAUT_PNG } from "@facerec/worker/src/test-support/photos.ts";
import sharp from "sharp";

/** dlib's examples/faces photo with three people side by side. */
const GROUP_PHOTO = `${identityPhotos()[0]!.file.split("/johns/")[0]}/faces/2008_002506.jpg`;

interface Problem {
  code: string;
  status: number;
  faces?: { index: number; bbox: { x: number; width: number }; detScore: number }[];
}
interface PersonBody {
  person: {
    id: string;
    displayName: string;
    externalId: string | null;
    labels: string[];
    watchlist: boolean;
    faceCount: number;
  };
}
interface SearchBody {
  model: string;
  gallerySize: number;
  matches: { person: { id: string; displayName: string }; similarity: number; faceId: string }[];
}

describe("people, enrolment and search", () => {
  let t: TestStack;
  let admin: string;
  let viewer: string;
  let worker: string;

  /** POSTs a photo as multipart/form-data (field `image`) plus text fields. */
  const upload = async <T>(
    path: string,
    token: string,
    photo: Uint8Array,
    fields: Record<string, string> = {},
  ) => {
    const form = new FormData();
    form.set("image", new Blob([new Uint8Array(photo)]), "photo");
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    const res = await fetch(`${t.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    const type = res.headers.get("content-type") ?? "";
    return { status: res.status, type, body: (await res.json()) as T };
  };
  const createPerson = async (body: Record<string, unknown>, token = admin) => {
    const res = await t.api<PersonBody>("POST", "/v1/people", { token, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.person;
  };

  before(async () => {
    requireModel(MODELS.dlib);
    requireModel(MODELS.blazefaceBack);
    t = await startTestStack();
    admin = await t.login();
    viewer = (await t.exchange((await t.createKey(admin, { role: "viewer" })).key)).body
      .accessToken as string;
    worker = (await t.exchange((await t.createKey(admin, { role: "worker" })).key)).body
      .accessToken as string;
  });
  after(() => t?.stop());

  it("creates, reads, filters, pages, changes and deletes people, each change audited", async () => {
    const alice = await createPerson({
      displayName: "Alice Archer",
      externalId: "HR-1",
      labels: ["staff"],
      watchlist: true,
    });
    const bob = await createPerson({ displayName: "Bob Baker", labels: ["visitor"] });
    await createPerson({ displayName: "alina Ames", labels: ["staff"] });
    assert.deepEqual([alice.externalId, bob.externalId, alice.faceCount], ["HR-1", null, 0]);

    const dup = await t.api<Problem>("POST", "/v1/people", {
      token: admin,
      body: { displayName: "X", externalId: "HR-1" },
    });
    assert.deepEqual([dup.status, dup.body.code], [409, "external_id_taken"]);
    // Taking another person's externalId by an edit is the same conflict, not a 500.
    const taken = await t.api<Problem>("PATCH", `/v1/people/${bob.id}`, {
      token: admin,
      body: { externalId: "HR-1" },
    });
    assert.deepEqual([taken.status, taken.body.code], [409, "external_id_taken"]);
    const bad = await t.api<Problem>("POST", "/v1/people", { token: admin, body: { displayName: "" } });
    assert.deepEqual([bad.status, bad.body.code], [400, "validation_failed"]);

    const names = async (query: string) =>
      (
        await t.api<{ people: { displayName: string }[] }>("GET", `/v1/people?${query}`, { token: viewer })
      ).body.people
        .map((p) => p.displayName)
        .sort();
    assert.deepEqual(await names("namePrefix=ALI"), ["Alice Archer", "alina Ames"]);
    assert.deepEqual(await names("label=staff"), ["Alice Archer", "alina Ames"]);
    assert.deepEqual(await names("watchlist=true"), ["Alice Archer"]);
    assert.deepEqual(await names("namePrefix=b&watchlist=false"), ["Bob Baker"]);

    const first = await t.api<{ people: unknown[]; nextPageToken: string }>("GET", "/v1/people?pageSize=2", {
      token: viewer,
    });
    const second = await t.api<{ people: unknown[]; nextPageToken: string }>(
      "GET",
      `/v1/people?pageSize=2&pageToken=${first.body.nextPageToken}`,
      { token: viewer },
    );
    assert.deepEqual(
      [first.body.people.length, second.body.people.length, second.body.nextPageToken],
      [2, 1, ""],
    );

    const patched = await t.api<PersonBody>("PATCH", `/v1/people/${bob.id}`, {
      token: admin,
      body: { displayName: "Robert Baker", externalId: "HR-2", labels: [], watchlist: true },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(
      [
        patched.body.person.displayName,
        patched.body.person.externalId,
        patched.body.person.labels,
        patched.body.person.watchlist,
      ],
      ["Robert Baker", "HR-2", [], true],
    );
    const cleared = await t.api<PersonBody>("PATCH", `/v1/people/${bob.id}`, {
      token: admin,
      body: { externalId: null },
    });
    assert.equal(cleared.body.person.externalId, null);

    assert.equal((await t.api("DELETE", `/v1/people/${bob.id}`, { token: admin })).status, 204);
    assert.equal((await t.api("GET", `/v1/people/${bob.id}`, { token: viewer })).status, 404);

    const audit = await t.api<{
      auditEvents: { action: string; targetId: string; actor: { displayName: string } }[];
    }>("GET", "/v1/audit-events?pageSize=50", { token: admin });
    const ofBob = audit.body.auditEvents.filter((e) => e.targetId === bob.id).map((e) => e.action);
    assert.deepEqual(ofBob.sort(), [
      "person.created",
      "person.deleted",
      "person.observations_erased",
      "person.updated",
      "person.updated",
    ]);
  });

  it("lets viewers read, admins write and workers nothing; another tenant's person is 404", async () => {
    const person = await createPerson({ displayName: "Tenant A person" });
    assert.equal(
      (await t.api("POST", "/v1/people", { token: viewer, body: { displayName: "no" } })).status,
      403,
    );
    assert.equal((await t.api("GET", "/v1/people", { token: worker })).status, 403);
    assert.equal((await t.api("GET", `/v1/people/${person.id}`, { token: viewer })).status, 200);
    const png = readFileSync(ASTRONAUT_PNG);
    assert.equal((await upload<Problem>(`/v1/people/${person.id}/faces`, viewer, png)).status, 403);

    const other = await t.createTenant("t-people-other");
    for (const [method, path] of [
      ["GET", `/v1/people/${person.id}`],
      ["PATCH", `/v1/people/${person.id}`],
      ["DELETE", `/v1/people/${person.id}`],
      ["GET", `/v1/people/${person.id}/faces`],
    ] as const) {
      const res = await t.api<Problem>(method, path, {
        token: other,
        ...(method === "PATCH" ? { body: { notes: "x" } } : {}),
      });
      assert.deepEqual([res.status, res.body.code], [404, "not_found"], `${method} ${path}`);
    }
    const enrol = await upload<Problem>(`/v1/people/${person.id}/faces`, other, png);
    assert.deepEqual([enrol.status, enrol.body.code], [404, "not_found"]);
    const theirs = await t.api<{ people: unknown[] }>("GET", "/v1/people", { token: other });
    assert.deepEqual(theirs.body.people, []);
  });

  it("enrols the face of a photo: crop, embedding, thumbnail; PNG, JPEG and WebP", async () => {
    const person = await createPerson({ displayName: "Eileen Collins" });
    const png = readFileSync(ASTRONAUT_PNG);
    const formats = [png, await sharp(png).jpeg().toBuffer(), await sharp(png).webp().toBuffer()];
    for (const photo of formats) {
      const res = await upload<{
        face: { id: string; embeddings: unknown[]; thumbnailUrl: string; bbox: { width: number } };
      }>(`/v1/people/${person.id}/faces`, admin, photo);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(res.body.face.embeddings, [{ model: "dlib/resnet-v1-128", embeddingDim: 128 }]);
      assert.ok(res.body.face.bbox.width > 60);
    }
    const list = await t.api<{ faces: { id: string; thumbnailUrl: string }[] }>(
      "GET",
      `/v1/people/${person.id}/faces`,
      {
        token: viewer,
      },
    );
    assert.equal(list.body.faces.length, 3);
    const thumb = await fetch(`${t.url}${list.body.faces[0]!.thumbnailUrl}`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(thumb.headers.get("content-type"), "image/jpeg");
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 112, 112]);
    const got = await t.api<PersonBody>("GET", `/v1/people/${person.id}`, { token: viewer });
    assert.equal(got.body.person.faceCount, 3);

    const faceId = list.body.faces[0]!.id;
    assert.equal(
      (await t.api("DELETE", `/v1/people/${person.id}/faces/${faceId}`, { token: admin })).status,
      204,
    );
    assert.equal(
      (await t.api("DELETE", `/v1/people/${person.id}/faces/${faceId}`, { token: admin })).status,
      404,
    );
    const after = await t.api<{ faces: unknown[] }>("GET", `/v1/people/${person.id}/faces`, {
      token: viewer,
    });
    assert.equal(after.body.faces.length, 2);
  });

  it("refuses unusable photos with precise problems", async () => {
    const person = await createPerson({ displayName: "Refusals" });
    const path = `/v1/people/${person.id}/faces`;
    const png = readFileSync(ASTRONAUT_PNG);
    const expect = async (
      photo: Uint8Array,
      status: number,
      code: string,
      fields?: Record<string, string>,
    ) => {
      const res = await upload<Problem>(path, admin, photo, fields);
      assert.deepEqual([res.status, res.body.code, res.type], [status, code, "application/problem+json"]);
      return res.body;
    };
    await expect(Buffer.from("just some text, not a picture"), 415, "unsupported_media_type");
    await expect(Buffer.concat([png.subarray(0, 200)]), 422, "invalid_image");
    const noFace = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#6a8" } })
      .jpeg()
      .toBuffer();
    await expect(noFace, 422, "no_face_found");
    const tiny = await sharp(png).resize(160, 160).png().toBuffer();
    await expect(tiny, 422, "face_too_small");

    const group = readFileSync(GROUP_PHOTO);
    const several = await expect(group, 422, "multiple_faces");
    assert.equal(several.faces?.length, 3);
    assert.ok(several.faces![0]!.bbox.x < several.faces![1]!.bbox.x, "listed left to right");
    assert.equal((await upload(path, admin, group, { faceIndex: "1" })).status, 201);
    const box = several.faces![2]!.bbox;
    assert.equal((await upload(path, admin, group, { bbox: JSON.stringify(box) })).status, 201);
    await expect(group, 422, "face_not_found", { faceIndex: "7" });
    for (const faceIndex of ["-1", "135656755168"]) {
      const badIndex = await upload<Problem>(path, admin, group, { faceIndex });
      assert.deepEqual([badIndex.status, badIndex.body.code], [400, "validation_failed"], faceIndex);
    }

    // JSON enrols a streamed event or track instead (person-erasure.test.ts): a photo field is no such body.
    const json = await t.api<Problem>("POST", path, { token: admin, body: { image: "x" } });
    assert.deepEqual([json.status, json.body.code], [400, "validation_failed"]);
    const text = await fetch(`${t.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/plain" },
      body: "a photo, honestly",
    });
    assert.deepEqual([text.status, ((await text.json()) as Problem).code], [415, "unsupported_media_type"]);
    const huge = Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024)]);
    const tooLarge = await upload<Problem>(path, admin, huge).catch((err: Error) => ({
      status: 0,
      body: { code: err.message },
    }));
    assert.deepEqual([tooLarge.status, tooLarge.body.code], [413, "image_too_large"]);
  });

  it("finds people by a different photo of them, and forgets deleted people", async () => {
    const photos = identityPhotos().filter((p) => p.file.includes("/johns/"));
    const byIdentity = Map.groupBy(photos, (p) => p.identity);
    const ids = new Map<string, string>();
    for (const [identity, own] of byIdentity) {
      const person = await createPerson({ displayName: identity, labels: ["johns"] });
      ids.set(identity, person.id);
      for (const photo of own.slice(0, 3)) {
        const res = await upload(`/v1/people/${person.id}/faces`, admin, readFileSync(photo.file));
        assert.equal(res.status, 201, `${photo.file}: ${JSON.stringify(res.body)}`);
      }
    }
    // Photos 4 to 11 of each person were never enrolled.
    let correct = 0;
    let total = 0;
    for (const [identity, own] of byIdentity) {
      for (const photo of own.slice(3, 6)) {
        const res = await upload<SearchBody>("/v1/faces/search", viewer, readFileSync(photo.file), {
          maxResults: "3",
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.model, "dlib/resnet-v1-128");
        total++;
        if (res.body.matches[0]?.person.id === ids.get(identity)) correct++;
        const sims = res.body.matches.map((m) => m.similarity);
        assert.deepEqual(
          sims,
          [...sims].sort((a, b) => b - a),
          "best first",
        );
      }
    }
    assert.equal(correct, total, `rank-1 ${correct}/${total}`);

    const victim = [...byIdentity.keys()][0]!;
    const deleted = await t.api("DELETE", `/v1/people/${ids.get(victim)}`, { token: admin });
    assert.equal(deleted.status, 204);
    const probe = readFileSync(byIdentity.get(victim)![5]!.file);
    const res = await upload<SearchBody>("/v1/faces/search", viewer, probe, { maxResults: "10" });
    assert.ok(res.body.matches.length > 0);
    assert.ok(!res.body.matches.some((m) => m.person.id === ids.get(victim)), "the deleted person is gone");
    assert.ok(
      res.body.matches.every((m) => m.faceId),
      "every match names its face",
    );
  });
});
