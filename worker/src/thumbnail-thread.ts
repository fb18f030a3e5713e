// The thread side of ThumbnailEncoder (thumbnails.ts): encodes each crop it is sent as a JPEG.
import { parentPort } from "node:worker_threads";
import { encodeThumbnail } from "./thumbnails.ts";

const port = parentPort!;
port.on(
  "message",
  ({ id, width, height, data }: { id: number; width: number; height: number; data: Uint8Array }) => {
    const start = performance.now();
    const jpeg = encodeThumbnail({ width, height, data });
    port.postMessage({ id, jpeg, ms: performance.now() - start }, [jpeg.buffer as ArrayBuffer]);
  },
);
