/**
 * An embedding's little-endian bytes (the wire and storage form, and every machine this runs on)
 * as float32: a view when they are 4-byte aligned, else a copy, since a Buffer decoded from a
 * message or a document may start anywhere. Read it, do not write it; copy it to keep it. A view
 * also reads each float in one step where readFloatLE checks bounds each time (that loop was 4% of
 * ingest's CPU under load).
 */
export function embeddingValues(bytes: Uint8Array): Float32Array {
  const { buffer, byteOffset, byteLength } = bytes;
  return byteOffset % Float32Array.BYTES_PER_ELEMENT === 0
    ? new Float32Array(buffer, byteOffset, byteLength / Float32Array.BYTES_PER_ELEMENT)
    : new Float32Array(new Uint8Array(bytes).buffer);
}
