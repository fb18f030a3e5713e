/**
 * Background loops of the services (gallery and revocation polls, retention sweeps, heartbeats,
 * erasure retries): a task run again `everyMs` after each run ends, never two at once.
 *
 * `stop()` waits for a run in flight and schedules nothing after it, so a service can close its
 * database connection right after. (A hand-rolled `setTimeout` loop that rescheduled itself after
 * a run that was in flight during `stop()` kept polling a closed connection forever, and held the
 * process open; set-interval-async's `clearIntervalAsync` is built for exactly this.)
 */
import { clearIntervalAsync, type SetIntervalAsyncTimer, setIntervalAsync } from "set-interval-async/fixed";

export interface Repeating {
  /** Resolves once no run is in flight and none will start. */
  stop(): Promise<void>;
}

export function repeat(
  task: () => Promise<unknown>,
  opts: {
    everyMs: number;
    /** Run once at once, rather than first after `everyMs`. */
    now?: boolean;
    /** A failed run is reported here and the loop goes on. */
    onError: (err: unknown) => void;
  },
): Repeating {
  const guarded = () => task().then(() => undefined, opts.onError);
  let stopped = false;
  let timer: SetIntervalAsyncTimer<[]> | undefined;
  const started = (opts.now ? guarded() : Promise.resolve()).then(() => {
    if (!stopped) timer = setIntervalAsync(guarded, opts.everyMs);
  });
  return {
    async stop() {
      stopped = true;
      await started;
      if (timer) await clearIntervalAsync(timer);
    },
  };
}
