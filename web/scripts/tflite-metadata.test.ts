import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ByteBuffer } from "flatbuffers";
import { describe, expect, it } from "vitest";
import { blazeFaceWithMetadata } from "./face-detector-assets.ts";
import {
  buildImageModelMetadata,
  readTfliteMetadata,
  TFLITE_METADATA,
  withTfliteMetadata,
} from "./tflite-metadata.ts";

/** Reads a table field the way generated flatbuffers code does (vtable lookup). */
function fieldOffset(bb: ByteBuffer, table: number, id: number): number {
  return bb.__offset(table, 4 + 2 * id);
}

describe("TFLite metadata writer", () => {
  const original = new Uint8Array(
    readFileSync(
      join(
        dirname(createRequire(import.meta.url).resolve("@mediapipe/face_detection")),
        "face_detection_short_range.tflite",
      ),
    ),
  );
  const patched = blazeFaceWithMetadata();
  const metadata = readTfliteMetadata(patched);

  it("adds a TFLITE_METADATA buffer holding an M001 ModelMetadata flatbuffer", () => {
    expect(metadata).not.toBeNull();
    const bb = new ByteBuffer(metadata!);
    expect(bb.__has_identifier("M001")).toBe(true);
    const root = bb.readInt32(0);
    expect(bb.__string(root + fieldOffset(bb, root, 0))).toBe("BlazeFace (short range)");
  });

  it("writes the input's normalisation (mean 127.5, std 127.5) and RGB image properties", () => {
    const bb = new ByteBuffer(metadata!);
    const root = bb.readInt32(0);
    const subgraph = bb.__indirect(bb.__vector(root + fieldOffset(bb, root, 3)));
    const input = bb.__indirect(bb.__vector(subgraph + fieldOffset(bb, subgraph, 2)));
    const content = bb.__indirect(input + fieldOffset(bb, input, 3));
    expect(bb.readUint8(content + fieldOffset(bb, content, 0))).toBe(2); // ImageProperties
    const image = bb.__indirect(content + fieldOffset(bb, content, 1));
    expect(bb.readInt8(image + fieldOffset(bb, image, 0))).toBe(1); // RGB
    const unit = bb.__indirect(bb.__vector(input + fieldOffset(bb, input, 4)));
    expect(bb.readUint8(unit + fieldOffset(bb, unit, 0))).toBe(1); // NormalizationOptions
    const normalization = bb.__indirect(unit + fieldOffset(bb, unit, 1));
    const mean = bb.__vector(normalization + fieldOffset(bb, normalization, 0));
    const std = bb.__vector(normalization + fieldOffset(bb, normalization, 1));
    expect([bb.readFloat32(mean), bb.readFloat32(std)]).toEqual([127.5, 127.5]);
    const outputs = subgraph + fieldOffset(bb, subgraph, 3);
    expect(bb.__vector_len(outputs)).toBe(2);
  });

  it("keeps every old buffer's bytes, moved by a multiple of 16 (so their alignment holds)", () => {
    expect(new TextDecoder().decode(patched.subarray(4, 8))).toBe("TFL3");
    const buffersOf = (model: Uint8Array) => {
      const bb = new ByteBuffer(model);
      const root = bb.readInt32(0);
      const buffers = root + fieldOffset(bb, root, 4);
      return Array.from({ length: bb.__vector_len(buffers) }, (_, i) => {
        const buffer = bb.__indirect(bb.__vector(buffers) + 4 * i);
        const data = fieldOffset(bb, buffer, 0);
        if (data === 0) return null;
        const start = bb.__vector(buffer + data);
        return { start, bytes: model.subarray(start, start + bb.__vector_len(buffer + data)) };
      });
    };
    const before = buffersOf(original);
    const after = buffersOf(patched);
    expect(after.length).toBe(before.length + 1);
    for (const [i, buffer] of before.entries()) {
      if (buffer === null) {
        expect(after[i]).toBeNull();
        continue;
      }
      expect((after[i]!.start - buffer.start) % 16).toBe(0);
      expect(Buffer.from(after[i]!.bytes).equals(Buffer.from(buffer.bytes))).toBe(true);
    }
  });

  it("leaves the graph readable: the input tensor is still the 1×128×128×3 `input`", () => {
    const bb = new ByteBuffer(patched);
    const root = bb.readInt32(0);
    // The subgraph's input tensor still reads as the 1×128×128×3 "input".
    const subgraph = bb.__indirect(bb.__vector(root + fieldOffset(bb, root, 2)));
    const tensors = subgraph + fieldOffset(bb, subgraph, 0);
    const inputs = subgraph + fieldOffset(bb, subgraph, 1);
    const tensor = bb.__indirect(bb.__vector(tensors) + 4 * bb.readInt32(bb.__vector(inputs)));
    expect(bb.__string(tensor + fieldOffset(bb, tensor, 3))).toBe("input");
    const shape = tensor + fieldOffset(bb, tensor, 0);
    const dims = Array.from({ length: bb.__vector_len(shape) }, (_, i) =>
      bb.readInt32(bb.__vector(shape) + 4 * i),
    );
    expect(dims).toEqual([1, 128, 128, 3]);
  });

  it("refuses a model that already has metadata, and a file that is no TFLite model", () => {
    const again = buildImageModelMetadata({
      name: "x",
      description: "",
      version: "1",
      license: "",
      input: { name: "i", description: "", width: 1, height: 1, mean: [0], std: [1] },
      outputs: [],
    });
    expect(() => withTfliteMetadata(patched, again)).toThrow(TFLITE_METADATA);
    expect(() => withTfliteMetadata(new Uint8Array(64), again)).toThrow(/TFL3/);
  });
});
