// The ONNX build of dlib's ResNet is proven against face-api itself: its FaceRecognitionNet, run by
// @tensorflow/tfjs on the CPU, and the ONNX model, run by onnxruntime-node, must give the same
// descriptors for real aligned faces within 1e-4.
import assert from "node:assert/strict";
import { createRequire, registerHooks } from "node:module";
import path from "node:path";
import { before, describe, it } from "node:test";
import { cropOf } from "../../src/aligner.ts";
import { BlazeFaceDetector } from "../../src/detectors/blazeface.ts";
import { toInputTensor } from "../../src/models/input-tensor.ts";
import { MODELS } from "../../src/models/manifest.ts";
import { ort } from "../../src/models/onnx-session.ts";
import { alignedIdentityFaces } from "../../src/test-support/identities.ts";
import { requireModel, TEST_MODELS_DIR } from "../../src/test-support/models.ts";
import { buildDlibResnetOnnx, DLIB_EMBEDDING_DIM, readWeightsManifest } from "./dlib-resnet-to-onnx.ts";

// face-api's Node build requires the native @tensorflow/tfjs-node; the pure-JS @tensorflow/tfjs
// (a worker dependency) has the same API and runs face-api's own code on its CPU backend.
registerHooks({
  resolve: (specifier, context, next) =>
    next(specifier === "@tensorflow/tfjs-node" ? "@tensorflow/tfjs" : specifier, context),
});
const require = createRequire(import.meta.url);
const source = MODELS.dlib.source;
const weightsManifest = path.join(
  path.dirname(require.resolve(`${source.packageName}/package.json`)),
  source.weightsManifest,
);

describe("dlib ResNet built as ONNX from face-api's weights", () => {
  let input: Float32Array;
  let count: number;
  before(async () => {
    requireModel(MODELS.blazefaceBack);
    const detector = await BlazeFaceDetector.open(TEST_MODELS_DIR);
    const faces = (await alignedIdentityFaces(detector, cropOf(MODELS.dlib))).filter(
      (f) => f.variation === 0,
    );
    await detector.close();
    count = faces.length;
    input = toInputTensor(
      faces.map((f) => f.aligned),
      MODELS.dlib.input,
    );
  });

  it("matches face-api's FaceRecognitionNet on TF.js within 1e-4 on real faces", async (t) => {
    const faceapi = require("@vladmandic/face-api/dist/face-api.node.js");
    await faceapi.tf.setBackend("cpu");
    await faceapi.nets.faceRecognitionNet.loadFromDisk(path.dirname(weightsManifest));
    const session = await ort.InferenceSession.create(
      buildDlibResnetOnnx(await readWeightsManifest(weightsManifest)),
    );
    const result = await session.run({ input: new ort.Tensor("float32", input, [count, 150, 150, 3]) });
    const onnx = result["embedding"]!.data as Float32Array;
    assert.equal(onnx.length, count * DLIB_EMBEDDING_DIM);
    let worst = 0;
    for (let i = 0; i < count; i++) {
      const face = input.subarray(i * 150 * 150 * 3, (i + 1) * 150 * 150 * 3);
      const reference = (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(
        faceapi.tf.tensor4d(face, [1, 150, 150, 3]),
      )) as Float32Array;
      for (let j = 0; j < DLIB_EMBEDDING_DIM; j++)
        worst = Math.max(worst, Math.abs(reference[j]! - onnx[i * DLIB_EMBEDDING_DIM + j]!));
    }
    t.diagnostic(
      `largest difference over ${count} faces x ${DLIB_EMBEDDING_DIM} values: ${worst.toExponential(2)}`,
    );
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
    await session.release();
  });
});
