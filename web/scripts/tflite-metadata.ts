/**
 * Writes TFLite model metadata (the `TFLITE_METADATA` entry: a `ModelMetadata` flatbuffer, file
 * identifier "M001", schema tflite-support metadata_schema.fbs 1.x) into a .tflite model that has
 * none. MediaPipe Tasks reads an image model's input normalisation and colour space from it and
 * refuses a float model without it ("requires NormalizationOptions metadata"); the BlazeFace model
 * that npm's @mediapipe/face_detection ships is such a model.
 *
 * The model is not re-serialised: a flatbuffer's internal offsets are relative, so the tool inserts
 * a new root `Model` table (and the few objects it adds) between the file header and the old body,
 * moving the body by a multiple of 16 bytes so every alignment in it holds. The new root copies the
 * old root's fields, with `metadata` and `buffers` extended by one entry each. Field ids follow
 * tensorflow/lite/schema/schema.fbs (`Model`, `Buffer`, `Metadata`).
 */
import { Builder } from "flatbuffers";

export interface ImageInputMetadata {
  /** Model name and description, shown by metadata readers. */
  name: string;
  description: string;
  version: string;
  license: string;
  input: { name: string; description: string; width: number; height: number; mean: number[]; std: number[] };
  /** One entry per output tensor, in the subgraph's output order. */
  outputs: { name: string; description: string }[];
}

// metadata_schema.fbs enum and union values.
const COLOR_SPACE_RGB = 1;
const CONTENT_FEATURE_PROPERTIES = 1;
const CONTENT_IMAGE_PROPERTIES = 2;
const PROCESS_UNIT_NORMALIZATION = 1;
const METADATA_FILE_IDENTIFIER = "M001";
/** The lowest metadata parser that understands every field written here (all are from 1.0.0). */
const MIN_PARSER_VERSION = "1.0.0";

/** The `ModelMetadata` flatbuffer of an image model with one RGB input and plain feature outputs. */
export function buildImageModelMetadata(spec: ImageInputMetadata): Uint8Array {
  const b = new Builder(1024);
  const offsets = (items: number[]) => {
    b.startVector(4, items.length, 4);
    for (let i = items.length - 1; i >= 0; i--) b.addOffset(items[i]!);
    return b.endVector();
  };
  const floats = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]!);
    return b.endVector();
  };

  // ImageProperties { color_space: RGB, default_size: ImageSize { width, height } }
  b.startObject(2);
  b.addFieldInt32(0, spec.input.width, 0);
  b.addFieldInt32(1, spec.input.height, 0);
  const imageSize = b.endObject();
  b.startObject(2);
  b.addFieldInt8(0, COLOR_SPACE_RGB, 0);
  b.addFieldOffset(1, imageSize, 0);
  const imageProperties = b.endObject();
  // Content { content_properties_type, content_properties }
  b.startObject(3);
  b.addFieldInt8(0, CONTENT_IMAGE_PROPERTIES, 0);
  b.addFieldOffset(1, imageProperties, 0);
  const imageContent = b.endObject();
  // NormalizationOptions { mean, std } inside ProcessUnit { options_type, options }
  const mean = floats(spec.input.mean);
  const std = floats(spec.input.std);
  b.startObject(2);
  b.addFieldOffset(0, mean, 0);
  b.addFieldOffset(1, std, 0);
  const normalization = b.endObject();
  b.startObject(2);
  b.addFieldInt8(0, PROCESS_UNIT_NORMALIZATION, 0);
  b.addFieldOffset(1, normalization, 0);
  const processUnits = offsets([b.endObject()]);

  // TensorMetadata { name, description, content, process_units }
  const inputName = b.createString(spec.input.name);
  const inputDescription = b.createString(spec.input.description);
  b.startObject(7);
  b.addFieldOffset(0, inputName, 0);
  b.addFieldOffset(1, inputDescription, 0);
  b.addFieldOffset(3, imageContent, 0);
  b.addFieldOffset(4, processUnits, 0);
  const inputTensor = b.endObject();

  const outputTensors = spec.outputs.map((output) => {
    b.startObject(0);
    const featureProperties = b.endObject();
    b.startObject(3);
    b.addFieldInt8(0, CONTENT_FEATURE_PROPERTIES, 0);
    b.addFieldOffset(1, featureProperties, 0);
    const content = b.endObject();
    const name = b.createString(output.name);
    const description = b.createString(output.description);
    b.startObject(7);
    b.addFieldOffset(0, name, 0);
    b.addFieldOffset(1, description, 0);
    b.addFieldOffset(3, content, 0);
    return b.endObject();
  });

  // SubGraphMetadata { input_tensor_metadata, output_tensor_metadata }
  const inputs = offsets([inputTensor]);
  const outputs = offsets(outputTensors);
  b.startObject(7);
  b.addFieldOffset(2, inputs, 0);
  b.addFieldOffset(3, outputs, 0);
  const subgraphs = offsets([b.endObject()]);

  // ModelMetadata { name, description, version, subgraph_metadata, license, min_parser_version }
  const name = b.createString(spec.name);
  const description = b.createString(spec.description);
  const version = b.createString(spec.version);
  const license = b.createString(spec.license);
  const minParser = b.createString(MIN_PARSER_VERSION);
  b.startObject(8);
  b.addFieldOffset(0, name, 0);
  b.addFieldOffset(1, description, 0);
  b.addFieldOffset(2, version, 0);
  b.addFieldOffset(3, subgraphs, 0);
  b.addFieldOffset(5, license, 0);
  b.addFieldOffset(7, minParser, 0);
  b.finish(b.endObject(), METADATA_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** The metadata entry name TFLite and MediaPipe look for. */
export const TFLITE_METADATA = "TFLITE_METADATA";
const MODEL_FILE_IDENTIFIER = "TFL3";

// schema.fbs `Model` field ids and which of them are offsets to other objects.
const MODEL_VERSION = 0;
const MODEL_BUFFERS = 4;
const MODEL_METADATA = 6;
const MODEL_FIELD_COUNT = 8; // version … signature_defs
const MODEL_SCALAR_FIELDS = new Set([MODEL_VERSION]);
// `Buffer` field ids: data, offset (data outside the flatbuffer, for models over 2 GB).
const BUFFER_OFFSET = 1;

/** A read-only view of a flatbuffer's tables: enough to copy a `Model` root. */
class FlatReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32 = (at: number) => this.view.getUint32(at, true);
  /** Where an offset stored at `at` points. */
  deref = (at: number) => at + this.u32(at);
  /** The field's position in the table, or 0 when absent. */
  field(table: number, id: number): number {
    const vtable = table - this.view.getInt32(table, true);
    const vtableLength = this.view.getUint16(vtable, true);
    if (4 + 2 * id >= vtableLength) return 0;
    const offset = this.view.getUint16(vtable + 4 + 2 * id, true);
    return offset === 0 ? 0 : table + offset;
  }
  fieldCount(table: number): number {
    const vtable = table - this.view.getInt32(table, true);
    return (this.view.getUint16(vtable, true) - 4) / 2;
  }
  string(at: number): string {
    const start = this.deref(at);
    return new TextDecoder().decode(this.bytes.subarray(start + 4, start + 4 + this.u32(start)));
  }
  /** Positions of a vector-of-tables' elements (each an offset slot). */
  slots(vectorField: number): number[] {
    if (vectorField === 0) return [];
    const vector = this.deref(vectorField);
    return Array.from({ length: this.u32(vector) }, (_, i) => vector + 4 + 4 * i);
  }
}

/** Appends little-endian values, tracking where each object went. */
class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  length = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }
  align(to: number, plus = 0): void {
    while ((this.length + plus) % to !== 0) this.length += 1;
  }
  u16(value: number): void {
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }
  u32(value: number): void {
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }
  i32(value: number): void {
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }
  raw(data: Uint8Array): void {
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  /** A table whose fields are all 4-byte slots, ids 0..n-1 (null = absent); returns where each slot is. */
  table(fields: (number | null)[]): { table: number; slots: number[] } {
    this.align(4);
    const vtable = this.length;
    this.u16(4 + 2 * fields.length);
    this.u16(4 + 4 * fields.filter((f) => f !== null).length);
    let offsetInTable = 4;
    for (const field of fields) {
      this.u16(field === null ? 0 : offsetInTable);
      if (field !== null) offsetInTable += 4;
    }
    this.align(4);
    const table = this.length;
    this.i32(table - vtable);
    const slots: number[] = [];
    for (const field of fields) {
      if (field === null) continue;
      slots.push(this.length);
      this.u32(field);
    }
    return { table, slots };
  }
  /** Points the offset slot at `slot` to `target`; flatbuffer offsets point forward only. */
  point(slot: number, target: number): void {
    if (target <= slot) throw new Error(`backward offset from ${slot} to ${target}`);
    this.view.setUint32(slot, target - slot, true);
  }
}

/**
 * The model with `metadata` as its `TFLITE_METADATA`. Refuses a model that already has metadata,
 * keeps its buffers outside the flatbuffer, or has fields this tool does not know.
 */
export function withTfliteMetadata(model: Uint8Array, metadata: Uint8Array): Uint8Array {
  const old = new FlatReader(model);
  if (new TextDecoder().decode(model.subarray(4, 8)) !== MODEL_FILE_IDENTIFIER)
    throw new Error("not a TFLite model (no TFL3 identifier)");
  const root = old.deref(0);
  if (old.fieldCount(root) > MODEL_FIELD_COUNT)
    throw new Error("the model has Model fields this tool does not know; update it from schema.fbs");
  const oldMetadata = old.slots(old.field(root, MODEL_METADATA));
  if (oldMetadata.some((slot) => old.string(old.field(old.deref(slot), 0)) === TFLITE_METADATA))
    throw new Error("the model already has TFLITE_METADATA");
  const oldBuffers = old.slots(old.field(root, MODEL_BUFFERS));
  if (oldBuffers.some((slot) => old.field(old.deref(slot), BUFFER_OFFSET) !== 0))
    throw new Error(
      "the model keeps buffers outside the flatbuffer (offset/size), which this tool does not move",
    );

  const w = new Writer(model.length + metadata.length + 4096);
  w.u32(0); // root offset, set below
  w.raw(model.subarray(4, 8));
  // Everything new sits between the header and the old body; `shift` (the new region's length) is
  // known only at the end, so slots pointing into the old body are recorded and set then.
  const intoOldBody: { slot: number; oldTarget: number }[] = [];
  const intoNew: { slot: number; target: () => number }[] = [];
  const later = <T>() => {
    let value: T | undefined;
    return { set: (v: T) => (value = v), get: () => value as T };
  };

  const newMetadataVector = later<number>();
  const newBuffersVector = later<number>();
  const rootFields: (number | null)[] = [];
  for (let id = 0; id < MODEL_FIELD_COUNT; id++) {
    const at = old.field(root, id);
    if (id === MODEL_METADATA || id === MODEL_BUFFERS) rootFields.push(0);
    else if (at === 0) rootFields.push(null);
    else rootFields.push(MODEL_SCALAR_FIELDS.has(id) ? old.u32(at) : 0);
  }
  const rootTable = w.table(rootFields);
  w.view.setUint32(0, rootTable.table, true);
  let slotIndex = 0;
  for (let id = 0; id < MODEL_FIELD_COUNT; id++) {
    if (rootFields[id] === null) continue;
    const slot = rootTable.slots[slotIndex++]!;
    if (id === MODEL_METADATA) intoNew.push({ slot, target: newMetadataVector.get });
    else if (id === MODEL_BUFFERS) intoNew.push({ slot, target: newBuffersVector.get });
    else if (!MODEL_SCALAR_FIELDS.has(id))
      intoOldBody.push({ slot, oldTarget: old.deref(old.field(root, id)) });
  }

  // metadata: the old entries, then { name: "TFLITE_METADATA", buffer: <new buffer's index> }
  w.align(4);
  newMetadataVector.set(w.length);
  w.u32(oldMetadata.length + 1);
  for (const slot of oldMetadata) {
    intoOldBody.push({ slot: w.length, oldTarget: old.deref(slot) });
    w.u32(0);
  }
  const newEntrySlot = w.length;
  w.u32(0);
  const entry = w.table([0, oldBuffers.length]);
  w.point(newEntrySlot, entry.table);
  const name = new TextEncoder().encode(TFLITE_METADATA);
  w.align(4);
  w.point(entry.slots[0]!, w.length);
  w.u32(name.length);
  w.raw(name);
  w.raw(new Uint8Array([0]));

  // buffers: the old ones, then { data: metadata }
  w.align(4);
  newBuffersVector.set(w.length);
  w.u32(oldBuffers.length + 1);
  for (const slot of oldBuffers) {
    intoOldBody.push({ slot: w.length, oldTarget: old.deref(slot) });
    w.u32(0);
  }
  const newBufferSlot = w.length;
  w.u32(0);
  const buffer = w.table([0]);
  w.point(newBufferSlot, buffer.table);
  w.align(16, 4); // the data after the length prefix 16-aligned, as `force_align: 16` asks
  w.point(buffer.slots[0]!, w.length);
  w.u32(metadata.length);
  w.raw(metadata);
  w.align(16, 8); // the old body moves by a multiple of 16, so its own alignment holds

  for (const { slot, target } of intoNew) w.point(slot, target());
  const shift = w.length - 8;
  for (const { slot, oldTarget } of intoOldBody) w.point(slot, oldTarget + shift);
  w.raw(model.subarray(8));
  return w.bytes.slice(0, w.length);
}

/** The `TFLITE_METADATA` buffer of a model, or null: what MediaPipe's metadata extractor reads. */
export function readTfliteMetadata(model: Uint8Array): Uint8Array | null {
  const r = new FlatReader(model);
  const root = r.deref(0);
  for (const slot of r.slots(r.field(root, MODEL_METADATA))) {
    const entry = r.deref(slot);
    if (r.string(r.field(entry, 0)) !== TFLITE_METADATA) continue;
    const bufferSlot = r.slots(r.field(root, MODEL_BUFFERS))[r.u32(r.field(entry, 1))];
    if (bufferSlot === undefined) return null;
    const data = r.deref(r.field(r.deref(bufferSlot), 0));
    return model.subarray(data + 4, data + 4 + r.u32(data));
  }
  return null;
}
