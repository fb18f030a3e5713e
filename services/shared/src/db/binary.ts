import { mongo } from "mongoose";

/** The bytes of a BinData field, whether mongoose hydrated it as a Buffer or `.lean()` left a BSON Binary. */
export function bytesOf(value: Buffer | mongo.Binary | Uint8Array): Buffer {
  if (value instanceof mongo.Binary)
    return Buffer.from(value.buffer.buffer, value.buffer.byteOffset, value.position);
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
