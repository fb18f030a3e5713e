/**
 * Group commit for inserts. FerretDB (SQLite) commits each write on its own, so a write's cost is
 * mostly the commit, not the documents: the inserts that arrive for a collection while one write to
 * it is under way go together in the next (one unordered insertMany of at most `maxDocs`), and many
 * concurrent callers cost a few writes, not one each. `maxDocs` stays under 100: FerretDB must never
 * get a large bulk write (a bulkWrite of 100+ upserts once hung it for good).
 */
import type { mongo } from "mongoose";
import { onlyDuplicateKeys } from "./duplicate-key.ts";

interface Submission<T> {
  docs: T[];
  resolve: (duplicates: Set<number>) => void;
  reject: (err: unknown) => void;
}

interface Queue<T extends mongo.Document> {
  collection: mongo.Collection<T>;
  waiting: Submission<T>[];
}

export class GroupedInserts<T extends mongo.Document & { _id: string }> {
  readonly #maxDocs: number;
  readonly #writeConcern: mongo.WriteConcernSettings;
  /** Collections with a write under way, by namespace. */
  readonly #queues = new Map<string, Queue<T>>();

  constructor(opts: { maxDocs: number; writeConcern: mongo.WriteConcernSettings }) {
    this.#maxDocs = opts.maxDocs;
    this.#writeConcern = opts.writeConcern;
  }

  /**
   * Inserts `docs` into `collection`; resolves with the positions (in `docs`) of those stored
   * already (a duplicate `_id`, including one inserted by another caller of the same write). Rejects
   * when the write fails otherwise: then any of them may or may not be stored.
   */
  insert(collection: mongo.Collection<T>, docs: T[]): Promise<Set<number>> {
    if (docs.length === 0) return Promise.resolve(new Set());
    const key = `${collection.dbName}.${collection.collectionName}`;
    let queue = this.#queues.get(key);
    const started = !queue;
    queue ??= { collection, waiting: [] };
    this.#queues.set(key, queue);
    const target = queue;
    const done = new Promise<Set<number>>((resolve, reject) =>
      target.waiting.push({ docs, resolve, reject }),
    );
    if (started) void this.#drain(key, target);
    return done;
  }

  async #drain(key: string, queue: Queue<T>): Promise<void> {
    while (queue.waiting.length > 0) {
      // Whole submissions, at least one, up to maxDocs in all.
      const taken = [queue.waiting.shift()!];
      let docs = taken[0]!.docs.length;
      while (queue.waiting.length > 0 && docs + queue.waiting[0]!.docs.length <= this.#maxDocs) {
        docs += queue.waiting[0]!.docs.length;
        taken.push(queue.waiting.shift()!);
      }
      const failed = await this.#write(queue.collection, taken);
      // The database is failing (a timeout, an outage): what queued meanwhile fails now rather than
      // wait out another timeout each; its callers retry (an ingest stream ends, the worker replays).
      if (failed) for (const s of queue.waiting.splice(0)) s.reject(failed);
    }
    this.#queues.delete(key);
  }

  /** Writes `taken` together; returns the error that failed them, if one did. */
  async #write(collection: mongo.Collection<T>, taken: Submission<T>[]): Promise<unknown> {
    const duplicates = new Set<number>();
    try {
      await collection.insertMany(taken.flatMap((s) => s.docs) as mongo.OptionalUnlessRequiredId<T>[], {
        ordered: false,
        writeConcern: this.#writeConcern,
      });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) {
        for (const s of taken) s.reject(err);
        return err;
      }
      for (const e of [err.writeErrors].flat()) duplicates.add(e.index);
    }
    let offset = 0;
    for (const s of taken) {
      const own = new Set<number>();
      for (let i = 0; i < s.docs.length; i++) if (duplicates.has(offset + i)) own.add(i);
      offset += s.docs.length;
      s.resolve(own);
    }
    return undefined;
  }
}
