// The experiment behind MobileFaceNet's input normalisation. The converted TF.js graph starts with
// a convolution, with no scaling layer, so the range it was trained on is not written down
// anywhere. Each candidate is run on the same aligned real faces (seven people, seven camera-like
// variations each) and judged by how well cosine similarity tells the people apart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlazeFaceDetector } from "../detectors/blazeface.ts";
import { type InputSpec, MODELS } from "../models/manifest.ts";
import { openSession } from "../models/onnx-session.ts";
import {
  type AlignedFace,
  alignedIdentityFaces,
  formatSeparation,
  type Separation,
  separation,
} from "../test-support/identities.ts";
import { requireModel, TEST_MODELS_DIR } from "../test-support/models.ts";
import { OnnxEmbedder } from "./onnx-embedder.ts";

const base = MODELS.mobilefacenet.input;
const CANDIDATES: Record<string, InputSpec> = {
  "RGB [0, 1]": { ...base, channels: "RGB", mean: 0, scale: 1 / 255 },
  "RGB [-1, 1]": { ...base, channels: "RGB", mean: 127.5, scale: 1 / 127.5 },
  "RGB [0, 255]": { ...base, channels: "RGB", mean: 0, scale: 1 },
  "RGB [-127.5, 127.5]": { ...base, channels: "RGB", mean: 127.5, scale: 1 },
  "BGR [0, 1]": { ...base, channels: "BGR", mean: 0, scale: 1 / 255 },
  "BGR [-1, 1]": { ...base, channels: "BGR", mean: 127.5, scale: 1 / 127.5 },
  "BGR [0, 255]": { ...base, channels: "BGR", mean: 0, scale: 1 },
};

describe("MobileFaceNet input normalisation (experiment)", () => {
  let faces: AlignedFace[];
  const results = new Map<string, Separation>();
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    requireModel(MODELS.mobilefacenet);
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    faces = await alignedIdentityFaces(detector);
    await detector.close();
  });
  after(() => results.clear());

  it("measures every candidate on the same real faces", async (t) => {
    const session = await openSession(TEST_MODELS_DIR, MODELS.mobilefacenet);
    for (const [name, input] of Object.entries(CANDIDATES)) {
      const embedder = new OnnxEmbedder(session, { ...MODELS.mobilefacenet, input }, 192);
      const embeddings = await embedder.embed(faces.map((f) => f.aligned));
      const s = separation(
        faces.map((f) => f.identity),
        embeddings,
      );
      results.set(name, s);
      t.diagnostic(`${name.padEnd(20)} ${formatSeparation(s)}`);
    }
    await session.release();
    assert.equal(results.size, Object.keys(CANDIDATES).length);
  });

  it("the manifest's normalisation is the one that separates people best", () => {
    const chosen = Object.entries(CANDIDATES).find(
      ([, c]) => c.mean === base.mean && c.scale === base.scale && c.channels === base.channels,
    )?.[0];
    assert.ok(chosen, "the manifest's normalisation is among the candidates");
    const ranked = [...results].sort(
      ([, a], [, b]) => b.nearestNeighbourAccuracy - a.nearestNeighbourAccuracy || b.dPrime - a.dPrime,
    );
    assert.equal(
      ranked[0]![0],
      chosen,
      `best: ${ranked.map(([n, s]) => `${n} ${formatSeparation(s)}`).join("\n")}`,
    );
  });
});
