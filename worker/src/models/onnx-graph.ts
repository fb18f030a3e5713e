/**
 * Small builders for ONNX graphs written in TypeScript: the model converters in `worker/tools` and
 * the people service's gallery scorer build their graphs from these.
 */
import {
  AttributeProto,
  AttributeProto_AttributeType,
  type DeepPartial,
  type GraphProto,
  ModelProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from "./onnx-gen/onnx/onnx.ts";

/** The opset and IR version every graph built here is written against. */
const OPSET = 13;
const IR_VERSION = 7;

/** A model of one graph, written against OPSET and IR_VERSION, as the bytes onnxruntime loads. */
export function encodeModel(producerName: string, graph: DeepPartial<GraphProto>): Uint8Array {
  return ModelProto.encode(
    ModelProto.fromPartial({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName,
      graph,
    }),
  ).finish();
}

/** A graph input or output: numbers are fixed sizes, strings named (dynamic) ones. */
export function valueInfo(
  name: string,
  elemType: TensorProto_DataType,
  dims: (number | string)[],
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A float32 input or output whose negative sizes are dynamic: "batch" first, then "d<axis>". */
export function tensorInfo(name: string, dims: number[]): ValueInfoProto {
  return valueInfo(
    name,
    TensorProto_DataType.FLOAT,
    dims.map((d, i) => (d >= 0 ? d : i === 0 ? "batch" : `d${i}`)),
  );
}

export function int(name: string, i: number): AttributeProto {
  return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.INT, i });
}

export function ints(name: string, list: number[]): AttributeProto {
  return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.INTS, ints: list });
}

export function string(name: string, s: string): AttributeProto {
  return AttributeProto.fromPartial({ name, type: AttributeProto_AttributeType.STRING, s: Buffer.from(s) });
}
