// The bounded on-disk queue of unacknowledged batches: an API outage or a worker restart loses
// nothing. One file per batch, written to a temporary name, fsynced and renamed, so a crash leaves
// either the whole batch or nothing; file names sort in enqueue order; acknowledged batches are
// deleted. When the byte budget is spent, enqueue waits: the pipeline slows down rather than
// dropping observations it already produced.
import { mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { FaceBatch } from "@facerec/proto/facerec/ingest/v1/ingest.ts";

export interface QueuedBatch {
  readonly seq: number;
  readonly batchId: string;
  readonly bytes: number;
  readonly file: string;
}

const FILE = /^(\d{16})-([A-Za-z0-9_-]{1,64})\.pb$/;

export class DiskQueue {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, QueuedBatch>();
  #bytes = 0;
  #nextSeq = 0;
  #waiters: (() => void)[] = [];
  #listeners = new Set<() => void>();

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** Opens the queue in `dir`, picking up every batch a previous run left unacknowledged. */
  static async open(dir: string, maxBytes: number): Promise<DiskQueue> {
    await mkdir(dir, { recursive: true });
    const queue = new DiskQueue(dir, maxBytes);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const match = FILE.exec(name);
      const file = path.join(dir, name);
      if (!match) {
        if (name.endsWith(".tmp")) await unlink(file); // a write that never completed
        continue;
      }
      const seq = Number(match[1]);
      const { size } = await stat(file);
      queue.#entries.set(match[2]!, { seq, batchId: match[2]!, bytes: size, file });
      queue.#bytes += size;
      queue.#nextSeq = Math.max(queue.#nextSeq, seq + 1);
    }
    return queue;
  }

  get depth(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Unacknowledged batches, oldest first. */
  pending(): QueuedBatch[] {
    return [...this.#entries.values()].sort((a, b) => a.seq - b.seq);
  }

  has(batchId: string): boolean {
    return this.#entries.has(batchId);
  }

  /** Stores a batch durably; waits while the queue is full. */
  async enqueue(batch: FaceBatch, signal?: AbortSignal): Promise<QueuedBatch> {
    const body = FaceBatch.encode(batch).finish();
    if (body.length > this.#maxBytes)
      throw new Error(`a batch of ${body.length} bytes can never fit QUEUE_MAX_BYTES=${this.#maxBytes}`);
    while (this.#bytes + body.length > this.#maxBytes) {
      if (signal?.aborted) throw new Error("aborted while waiting for queue space");
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const seq = this.#nextSeq++;
    const file = path.join(this.#dir, `${String(seq).padStart(16, "0")}-${batch.batchId}.pb`);
    const handle = await open(`${file}.tmp`, "w");
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(`${file}.tmp`, file);
    const entry = { seq, batchId: batch.batchId, bytes: body.length, file };
    this.#entries.set(batch.batchId, entry);
    this.#bytes += body.length;
    for (const listener of this.#listeners) listener();
    return entry;
  }

  async read(entry: QueuedBatch): Promise<FaceBatch> {
    return FaceBatch.decode(await readFile(entry.file));
  }

  /** Forgets an acknowledged batch; unknown ids (already removed) are ignored. */
  async remove(batchId: string): Promise<void> {
    const entry = this.#entries.get(batchId);
    if (!entry) return;
    this.#entries.delete(batchId);
    this.#bytes -= entry.bytes;
    await unlink(entry.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Calls `listener` after every enqueue; returns the unsubscribe function. */
  onEnqueue(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
