/**
 * Group commit for any batched operation: what arrives for a key while a run for it is under way
 * waits and goes together in the next run, so many concurrent callers cost a few runs, not one
 * each. Used where a run's fixed cost dominates: a FerretDB commit (GroupedInserts), a pass over a
 * gallery's vectors (ingest's matcher).
 */

/** One run over the items of several submissions; answers one output per item, in order. */
export type BatchRun<In, Out> = (items: In[]) => Promise<Out[]>;

interface Submission<In, Out> {
  items: In[];
  run: BatchRun<In, Out>;
  resolve: (outputs: Out[]) => void;
  reject: (err: unknown) => void;
}

/** A key's waiting submissions, and its runs under way. */
interface KeyState<In, Out> {
  queue: Submission<In, Out>[];
  running: number;
}

export class Coalescer<In, Out> {
  readonly #maxItems: number;
  readonly #maxRuns: number;
  readonly #failQueued: boolean;
  /** Keys with runs under way. */
  readonly #keys = new Map<string, KeyState<In, Out>>();

  /**
   * @param opts.maxItems a run takes whole submissions, at least one, up to this many items in all.
   * @param opts.maxRunsPerKey runs of one key under way at once (1 unless said): more suit a
   *   resource that overlaps concurrent requests (FerretDB's inserts into one collection).
   * @param opts.failQueuedOnError when a run fails, what queued meanwhile fails with it instead of
   *   running (the resource is failing: each waiter would otherwise wait out its own timeout).
   */
  constructor(opts: { maxItems: number; maxRunsPerKey?: number; failQueuedOnError: boolean }) {
    this.#maxItems = opts.maxItems;
    this.#maxRuns = opts.maxRunsPerKey ?? 1;
    this.#failQueued = opts.failQueuedOnError;
  }

  /** Runs `items` with others submitted under `key`; `run` is how (the first waiting submission's runs). */
  submit(key: string, items: In[], run: BatchRun<In, Out>): Promise<Out[]> {
    if (items.length === 0) return Promise.resolve([]);
    let state = this.#keys.get(key);
    if (!state) {
      state = { queue: [], running: 0 };
      this.#keys.set(key, state);
    }
    const target = state;
    const done = new Promise<Out[]>((resolve, reject) => target.queue.push({ items, run, resolve, reject }));
    if (state.running < this.#maxRuns) {
      state.running++;
      void this.#drain(key, state);
    }
    return done;
  }

  async #drain(key: string, state: KeyState<In, Out>): Promise<void> {
    const { queue } = state;
    while (queue.length > 0) {
      const taken = [queue.shift()!];
      let count = taken[0]!.items.length;
      while (queue.length > 0 && count + queue[0]!.items.length <= this.#maxItems) {
        count += queue[0]!.items.length;
        taken.push(queue.shift()!);
      }
      try {
        const outputs = await taken[0]!.run(taken.flatMap((s) => s.items));
        let offset = 0;
        for (const s of taken) {
          s.resolve(outputs.slice(offset, offset + s.items.length));
          offset += s.items.length;
        }
      } catch (err) {
        for (const s of taken) s.reject(err);
        if (this.#failQueued) for (const s of queue.splice(0)) s.reject(err);
      }
    }
    if (--state.running === 0) this.#keys.delete(key);
  }
}
