// Builds dlib's face recognition ResNet (the 29-layer "dlib_face_recognition_resnet_model_v1",
// 128-d) as an ONNX model from the weights @vladmandic/face-api publishes for its
// FaceRecognitionNet. Those weights are not a TF.js graph (the network lives in face-api's code),
// so the network is written out here, layer by layer, after face-api's forward pass
// (src/faceRecognitionNet/: FaceRecognitionNet.ts, convLayer.ts, residualLayer.ts):
//
//   (x - mean RGB) / 255 -> conv 7x7/2 valid + scale + relu -> max-pool 3/2
//   -> 3 residual(32) -> down(64) + 3 residual(64) -> down(128) + 2 residual(128)
//   -> down(256) + 2 residual(256) -> down(256) -> mean over H, W -> fully connected 256 -> 128
//
// Every convolution is followed by a per-channel scale layer (dlib's affine layer: a batch-norm
// fixed at training time); it is folded into the convolution's weights and bias here. The model's
// input is what face-api feeds it: 150x150 RGB 0-255, NHWC; the ONNX graph transposes to NCHW.
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from "../../src/models/onnx-gen/onnx/onnx.ts";
import { encodeModel, int, ints, tensorInfo } from "../../src/models/onnx-graph.ts";
import { hwioToOihw } from "./tfjs-to-onnx.ts";

/** face-api's FaceRecognitionNet.forwardInput: the mean it subtracts before dividing by 255. */
const MEAN_RGB = [122.782, 117.001, 104.298];
export const DLIB_INPUT_SIZE = 150;
export const DLIB_EMBEDDING_DIM = 128;

interface WeightsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** Decodes a TF.js weights manifest (uint8-quantized shards included) into named float arrays. */
export async function readWeightsManifest(manifestPath: string): Promise<Map<string, tf.Tensor>> {
  const groups = JSON.parse(await readFile(manifestPath, "utf8")) as WeightsManifestGroup[];
  const weights = new Map<string, tf.Tensor>();
  for (const group of groups) {
    const shards = await Promise.all(
      group.paths.map((p) => readFile(path.join(path.dirname(manifestPath), p))),
    );
    const bytes = Buffer.concat(shards);
    const decoded = tf.io.decodeWeights(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      group.weights,
    );
    for (const [name, tensor] of Object.entries(decoded)) weights.set(name, tensor);
  }
  return weights;
}

/** Serialized ONNX bytes of the network face-api's weights describe. */
export function buildDlibResnetOnnx(weights: Map<string, tf.Tensor>): Uint8Array {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  let counter = 0;
  const emit = (
    opType: string,
    input: string[],
    attrs: AttributeProto[] = [],
    out = `${opType}_${counter++}`,
  ) => {
    nodes.push({ input, output: [out], name: out, opType, domain: "", attribute: attrs });
    return out;
  };
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => {
    initializers.push({
      name,
      dims,
      dataType: data instanceof Float32Array ? TensorProto_DataType.FLOAT : TensorProto_DataType.INT64,
      rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  };
  const weight = (name: string) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`face-api weights have no ${name}`);
    return { shape: tensor.shape, values: tensor.dataSync() as Float32Array };
  };

  /** A value flowing through the graph and its NCHW shape (batch left out). */
  interface Value {
    name: string;
    channels: number;
    size: number;
  }

  // face-api's convLayer: conv (+ bias), then the scale layer, then optionally relu. TF's "same" for
  // a 3x3 stride-1 kernel pads one pixel on each side; "valid" pads nothing.
  const convLayer = (x: Value, prefix: string, stride: number, relu: boolean, padding: "same" | "valid") => {
    const filters = weight(`${prefix}/conv/filters`);
    const [kernel, , cin, cout] = filters.shape as [number, number, number, number];
    if (cin !== x.channels) throw new Error(`${prefix}: expects ${cin} channels, gets ${x.channels}`);
    const bias = weight(`${prefix}/conv/bias`).values;
    const scale = weight(`${prefix}/scale/weights`).values;
    const shift = weight(`${prefix}/scale/biases`).values;
    const oihw = hwioToOihw(filters);
    const perOutput = cin * kernel * kernel;
    for (let o = 0; o < cout; o++) for (let i = 0; i < perOutput; i++) oihw[o * perOutput + i]! *= scale[o]!;
    const folded = Float32Array.from(bias, (b, o) => b * scale[o]! + shift[o]!);
    const pad = padding === "same" ? (kernel - 1) / 2 : 0;
    const conv = emit(
      "Conv",
      [
        x.name,
        constant(`${prefix}/W`, [cout, cin, kernel, kernel], oihw),
        constant(`${prefix}/B`, [cout], folded),
      ],
      [
        ints("kernel_shape", [kernel, kernel]),
        ints("strides", [stride, stride]),
        ints("pads", [pad, pad, pad, pad]),
      ],
    );
    const size = Math.floor((x.size + 2 * pad - kernel) / stride) + 1;
    return { name: relu ? emit("Relu", [conv]) : conv, channels: cout, size };
  };

  const residual = (x: Value, prefix: string): Value => {
    const a = convLayer(x, `${prefix}/conv1`, 1, true, "same");
    const b = convLayer(a, `${prefix}/conv2`, 1, false, "same");
    return { ...b, name: emit("Relu", [emit("Add", [b.name, x.name])]) };
  };

  // face-api's residualDown: the shortcut is a 2x2 average pool, zero-padded to the new channel
  // count; where the strided convolution comes out one pixel smaller than the pool (odd sizes), the
  // convolution's output gets a zero row and column at the bottom and right.
  const residualDown = (x: Value, prefix: string): Value => {
    const a = convLayer(x, `${prefix}/conv1`, 2, true, "valid");
    let b = convLayer(a, `${prefix}/conv2`, 1, false, "same");
    const pooledSize = Math.floor((x.size - 2) / 2) + 1;
    let pooled = emit("AveragePool", [x.name], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])]);
    if (b.size !== pooledSize) {
      const grow = pooledSize - b.size;
      b = { ...b, name: zeroPad(b.name, [0, 0, 0, 0, 0, 0, grow, grow], `${prefix}/grow`), size: pooledSize };
    }
    if (b.channels !== x.channels) {
      pooled = zeroPad(pooled, [0, 0, 0, 0, 0, b.channels - x.channels, 0, 0], `${prefix}/widen`);
    }
    return { ...b, name: emit("Relu", [emit("Add", [pooled, b.name])]) };
  };

  /** Pads with zeros; `pads` is ONNX's [begin per axis..., end per axis...] for NCHW. */
  const zeroPad = (x: string, pads: number[], name: string) =>
    emit("Pad", [x, constant(`${name}/pads`, [8], BigInt64Array.from(pads.map(BigInt)))]);

  const nchw = emit("Transpose", ["input"], [ints("perm", [0, 3, 1, 2])]);
  const centred = emit("Sub", [nchw, constant("mean_rgb", [1, 3, 1, 1], Float32Array.from(MEAN_RGB))]);
  const scaled = emit("Div", [centred, constant("pixel_range", [], Float32Array.of(255))]);

  let x: Value = convLayer(
    { name: scaled, channels: 3, size: DLIB_INPUT_SIZE },
    "conv32_down",
    2,
    true,
    "valid",
  );
  x = {
    ...x,
    name: emit("MaxPool", [x.name], [ints("kernel_shape", [3, 3]), ints("strides", [2, 2])]),
    size: Math.floor((x.size - 3) / 2) + 1,
  };
  for (const block of ["conv32_1", "conv32_2", "conv32_3"]) x = residual(x, block);
  x = residualDown(x, "conv64_down");
  for (const block of ["conv64_1", "conv64_2", "conv64_3"]) x = residual(x, block);
  x = residualDown(x, "conv128_down");
  for (const block of ["conv128_1", "conv128_2"]) x = residual(x, block);
  x = residualDown(x, "conv256_down");
  for (const block of ["conv256_1", "conv256_2"]) x = residual(x, block);
  x = residualDown(x, "conv256_down_out");

  const pooled = emit("ReduceMean", [x.name], [ints("axes", [2, 3]), int("keepdims", 0)]);
  const fc = weight("fc");
  if (fc.shape.join() !== `${x.channels},${DLIB_EMBEDDING_DIM}`) throw new Error(`fc has shape ${fc.shape}`);
  emit("MatMul", [pooled, constant("fc", fc.shape, fc.values)], [], "embedding");

  return encodeModel("facerec-worker dlib-resnet-to-onnx", {
    name: "dlib_face_recognition_resnet",
    node: nodes,
    initializer: initializers,
    input: [tensorInfo("input", [-1, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE, 3])],
    output: [tensorInfo("embedding", [-1, DLIB_EMBEDDING_DIM])],
  });
}
