// The thread side of ThreadedSession (onnx-session.ts): owns one onnxruntime-node session and runs
// it on request. onnxruntime-node runs a model synchronously on the calling thread, so a session on
// the main thread would stop it from reading ffmpeg's pipe and preparing the next frame meanwhile.
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";
import type { SessionReply, SessionRequest, SharedTensor, TensorData } from "./onnx-session.ts";

const { file, options } = workerData as { file: string; options: ort.InferenceSession.SessionOptions };
const port = parentPort!;
const reply = (message: SessionReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** The shared input as the typed array onnxruntime expects; the caller does not touch it until we reply. */
function view(t: SharedTensor): TensorData["data"] {
  switch (t.type) {
    case "float32":
      return new Float32Array(t.buffer);
    case "int32":
      return new Int32Array(t.buffer);
    case "int64":
      return new BigInt64Array(t.buffer);
    case "uint8":
      return new Uint8Array(t.buffer);
  }
}

try {
  const session = await ort.InferenceSession.create(file, options);
  reply({
    kind: "ready",
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: [...session.inputMetadata],
  });
  port.on("message", async (request: SessionRequest) => {
    if (request.kind === "release") {
      await session.release();
      port.close();
      return;
    }
    try {
      const feeds = Object.fromEntries(
        Object.entries(request.feeds).map(([name, t]) => [name, new ort.Tensor(t.type, view(t), t.dims)]),
      );
      const results = await session.run(feeds as ort.InferenceSession.FeedsType);
      const outputs: Record<string, TensorData> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, tensor] of Object.entries(results)) {
        const data = tensor.data as TensorData["data"];
        outputs[name] = { type: tensor.type as TensorData["type"], data, dims: [...tensor.dims] };
        transfer.push(data.buffer as ArrayBuffer);
      }
      reply({ kind: "result", id: request.id, outputs }, transfer);
    } catch (error) {
      reply({ kind: "error", id: request.id, message: (error as Error).message });
    }
  });
} catch (error) {
  reply({ kind: "failed", message: (error as Error).message });
}
