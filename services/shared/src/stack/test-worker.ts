/**
 * Test side of IngestService.StreamFaces: a worker stream that records its acks and how it ended,
 * and batches of realistic observations (unit-length float32 embeddings, a real face JPEG). Shared
 * so the ingest service's tests and the gateway's REST tests stream the same way a worker does.
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import {
  type FaceBatch,
  type FaceObservation,
  type IngestAck,
  IngestServiceClient,
} from "@facerec/proto/facerec/ingest/v1/ingest.ts";
import {
  type ClientDuplexStream,
  credentials,
  Metadata,
  type StatusObject,
  type status,
} from "@grpc/grpc-js";
import { ERROR_CODE_KEY, errorInfoOf } from "../errors.ts";
import { TENANT, type TestStack } from "./test-stack.ts";

export interface StreamEnd {
  code: status;
  details: string;
  /** The `facerec-error-code` trailer, when the server sent one. */
  errorCode: string | undefined;
  /** The ErrorInfo of the `grpc-status-details-bin` trailer (google.rpc.Status), when sent. */
  errorInfo: { reason: string; domain: string } | undefined;
  /** When the client saw the end (performance.now()). */
  at: number;
}

/** Creates an API key of `role` as `adminToken`'s caller and exchanges it for a token of `tenantId`. */
export async function keyToken(
  t: TestStack,
  adminToken: string,
  opts: { role?: string; tenantId?: string; expiresAt?: string } = {},
): Promise<{ keyId: string; token: string }> {
  const { id, key } = await t.createKey(adminToken, {
    role: opts.role ?? "worker",
    ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
  });
  const exchanged = await t.exchange(key, opts.tenantId ?? TENANT);
  if (exchanged.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(exchanged.body)}`);
  return { keyId: id, token: String(exchanged.body.accessToken) };
}

export function ingestClient(address: string): IngestServiceClient {
  return new IngestServiceClient(address, credentials.createInsecure(), {
    // Above the server's 20 MiB transport limit, so tests can send what it must refuse.
    "grpc.max_send_message_length": 32 * 1024 * 1024,
  });
}

/**
 * Resolves once the ingest server accepts connections. It binds at once and refuses tokens until its
 * revocation feed has synced; a started stack is past that, since readiness waits for it.
 */
export function waitForIngest(client: IngestServiceClient, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
  );
}

export class WorkerStream {
  readonly acks: IngestAck[] = [];
  readonly ended: Promise<StreamEnd>;
  readonly call: ClientDuplexStream<FaceBatch, IngestAck>;
  #waiters: (() => void)[] = [];
  #end: StreamEnd | undefined;

  /** Opens a stream; `token` undefined sends no authorization metadata. */
  constructor(client: IngestServiceClient, token: string | undefined, opts: { readAcks?: boolean } = {}) {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    this.call = client.streamFaces(metadata);
    if (opts.readAcks !== false) this.readAcks();
    // A client that stalls: grpc-js takes acks off the connection only while the stream has room for
    // them (16), so the server's HTTP/2 window fills. (Had read() never been called, grpc-js would
    // keep draining the connection into the client's own memory instead.)
    else this.call.read(0);
    this.ended = new Promise((resolve) => {
      this.call.on("status", (s: StatusObject) => {
        const errorCode = s.metadata.get(ERROR_CODE_KEY)[0];
        this.#end = {
          code: s.code,
          details: s.details,
          errorCode: typeof errorCode === "string" ? errorCode : undefined,
          errorInfo: errorInfoOf(s.metadata),
          at: performance.now(),
        };
        this.#notify();
        resolve(this.#end);
      });
    });
    // Errors arrive as the status above; without a listener they would be thrown.
    this.call.on("error", () => {});
  }

  /** Starts consuming acks (streams opened with readAcks: false hold them back until this). */
  readAcks(): void {
    this.call.on("data", (ack: IngestAck) => {
      this.acks.push(ack);
      this.#notify();
    });
  }

  /** Writes batches, waiting for the transport to drain when it pushes back. */
  async send(...batches: FaceBatch[]): Promise<void> {
    for (const batch of batches) {
      if (this.#end) return;
      if (!this.call.write(batch)) await Promise.race([once(this.call, "drain"), this.ended]);
    }
  }

  /** Resolves once `count` acks arrived in total; rejects if the stream ends first or on timeout. */
  async waitForAcks(count: number, timeoutMs = 15_000): Promise<IngestAck[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < count) {
      if (this.#end) {
        throw new Error(`stream ended after ${this.acks.length}/${count} acks: ${JSON.stringify(this.#end)}`);
      }
      if (Date.now() > deadline)
        throw new Error(`only ${this.acks.length}/${count} acks after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.acks.slice(0, count);
  }

  /** Sends the batches and returns their acks. */
  async exchange(...batches: FaceBatch[]): Promise<IngestAck[]> {
    const before = this.acks.length;
    await this.send(...batches);
    return (await this.waitForAcks(before + batches.length)).slice(before);
  }

  /** Half-closes and waits for the server to end the call. */
  async finish(): Promise<StreamEnd> {
    this.call.end();
    return this.ended;
  }

  cancel(): void {
    this.call.cancel();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A random unit-length embedding as little-endian float32 bytes. */
export function randomEmbedding(dim: number): Buffer {
  const values = Float32Array.from({ length: dim }, () => Math.random() - 0.5);
  const norm = Math.hypot(...values);
  const bytes = Buffer.alloc(dim * 4);
  for (const [i, v] of values.entries()) bytes.writeFloatLE(v / norm, i * 4);
  return bytes;
}

const ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
let faceJpeg: Buffer | undefined;

/** A 112x112 JPEG of a real face (the public-domain astronaut photo that python3-skimage ships), made with ffmpeg. */
export function faceThumbnail(): Buffer {
  if (faceJpeg) return faceJpeg;
  if (!existsSync(ASTRONAUT)) throw new Error(`${ASTRONAUT} is missing: apt-get install python3-skimage`);
  faceJpeg = execFileSync(
    "ffmpeg",
    [
      "-v",
      "error",
      "-i",
      ASTRONAUT,
      "-vf",
      "crop=140:140:170:30,scale=112:112",
      "-frames:v",
      "1",
      "-f",
      "mjpeg",
      "-",
    ],
    { maxBuffer: 1 << 20 },
  );
  return faceJpeg;
}

export function makeObservation(overrides: Partial<FaceObservation> = {}): FaceObservation {
  const embeddingDim = overrides.embeddingDim ?? 512;
  return {
    capturedAt: new Date(),
    frameSeq: 1,
    bbox: { x: 10, y: 20, width: 112, height: 120 },
    landmarks: [40, 50, 80, 50, 60, 70, 45, 90, 75, 90],
    detScore: 0.98,
    embedding: randomEmbedding(embeddingDim),
    embeddingDim,
    model: "insightface/w600k_r50",
    quality: 0.8,
    trackId: 0,
    thumbnailJpeg: Buffer.alloc(0),
    ...overrides,
  };
}

export function makeBatch(
  opts: Partial<Omit<FaceBatch, "observations">> & { observations?: number | FaceObservation[] } = {},
): FaceBatch {
  const observations =
    typeof opts.observations === "object"
      ? opts.observations
      : Array.from({ length: opts.observations ?? 2 }, (_, i) => makeObservation({ frameSeq: i + 1 }));
  return {
    batchId: opts.batchId ?? crypto.randomUUID(),
    workerId: opts.workerId ?? "worker-1",
    siteId: opts.siteId ?? "site-1",
    cameraId: opts.cameraId ?? "camera-1",
    observations,
  };
}
