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

export class Coalescer<In, Out> {
  readonly #maxItems: number;
  readonly #failQueued: boolean;
  /** Keys with a run under way, and what waits for the next. */
  readonly #queues = new Map<string, Submission<In, Out>[]>();

  /**
   * @param opts.maxItems a run takes whole submissions, at least one, up to this many items in all.
   * @param opts.failQueuedOnError when a run fails, what queued meanwhile fails with it instead of
   *   running (the resource is failing: each waiter would otherwise wait out its own timeout).
   */
  constructor(opts: { maxItems: number; failQueuedOnError: boolean }) {
    this.#maxItems = opts.maxItems;
    this.#failQueued = opts.failQueuedOnError;
  }

  /** Runs `items` with others submitted under `key`; `run` is how (the first waiting submission's runs). */
  submit(key: string, items: In[], run: BatchRun<In, Out>): Promise<Out[]> {
    if (items.length === 0) return Promise.resolve([]);
    let queue = this.#queues.get(key);
    const idle = !queue;
    queue ??= [];
    this.#queues.set(key, queue);
    const target = queue;
    const done = new Promise<Out[]>((resolve, reject) => target.push({ items, run, resolve, reject }));
    if (idle) void this.#drain(key, target);
    return done;
  }

  async #drain(key: string, queue: Submission<In, Out>[]): Promise<void> {
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
    this.#queues.delete(key);
  }
}
