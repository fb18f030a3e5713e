/**
 * Group commit for inserts. FerretDB (SQLite) commits each write on its own, so a write's cost is
 * mostly the commit, not the documents: the inserts that arrive for a collection while its writes
 * are under way (`maxWritesPerCollection` at once, 1 unless said) go together in the next (one
 * unordered insertMany of at most `maxDocs`), and many concurrent callers cost a few writes, not
 * one each. `maxDocs` stays under 100: FerretDB must never
 * get a large bulk write (a bulkWrite of 100+ upserts once hung it for good). A write that fails
 * (a timeout, an outage) fails what queued behind it too, rather than each waiting out its own
 * timeout; callers retry (an ingest stream ends, the worker replays).
 */
import type { mongo } from "mongoose";
import { Coalescer } from "../coalescer.ts";
import { onlyDuplicateKeys } from "./duplicate-key.ts";

export class GroupedInserts<T extends mongo.Document & { _id: string }> {
  readonly #writeConcern: mongo.WriteConcernSettings;
  /** Per document: whether it was stored already. */
  readonly #writes: Coalescer<T, boolean>;

  constructor(opts: {
    maxDocs: number;
    maxWritesPerCollection?: number;
    writeConcern: mongo.WriteConcernSettings;
  }) {
    this.#writeConcern = opts.writeConcern;
    this.#writes = new Coalescer({
      maxItems: opts.maxDocs,
      maxRunsPerKey: opts.maxWritesPerCollection ?? 1,
      failQueuedOnError: true,
    });
  }

  /**
   * Inserts `docs` into `collection`; resolves with the positions (in `docs`) of those stored
   * already (a duplicate `_id`, including one inserted by another caller of the same write). Rejects
   * when the write fails otherwise: then any of them may or may not be stored.
   */
  async insert(collection: mongo.Collection<T>, docs: T[]): Promise<Set<number>> {
    const key = `${collection.dbName}.${collection.collectionName}`;
    const storedBefore = await this.#writes.submit(key, docs, (all) => this.#write(collection, all));
    return new Set(storedBefore.flatMap((before, i) => (before ? [i] : [])));
  }

  async #write(collection: mongo.Collection<T>, docs: T[]): Promise<boolean[]> {
    const duplicates = new Set<number>();
    try {
      await collection.insertMany(docs as mongo.OptionalUnlessRequiredId<T>[], {
        ordered: false,
        writeConcern: this.#writeConcern,
      });
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
      for (const e of [err.writeErrors].flat()) duplicates.add(e.index);
    }
    return docs.map((_, i) => duplicates.has(i));
  }
}
