/**
 * Keeps one process of the stack alive: restarts it when it exits unasked, after an exponential
 * backoff (capped, and reset once the process has run healthy for a while), and logs each crash
 * once with its cause. Stopping cancels a pending restart and stops whatever runs.
 */

import { type Backoff, backoffDelay } from "../backoff.ts";
import type { Logger } from "../logger.ts";

export interface ExitCause {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function describeExit(cause: ExitCause): string {
  return cause.signal ? `was killed by ${cause.signal}` : `exited with code ${cause.code}`;
}

/** A started process, ready to serve. */
export interface Launched {
  pid: number | undefined;
  exited: Promise<ExitCause>;
  /** Asks it to stop (SIGTERM, then SIGKILL after a grace period) and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

/** A start that failed before the process was ready. */
export class LaunchFailed extends Error {
  override name = "LaunchFailed";
  readonly process: string;
  readonly exit: ExitCause;

  constructor(process: string, exit: ExitCause, detail?: string) {
    super(detail ?? `${process} ${describeExit(exit)} before it was ready`);
    this.process = process;
    this.exit = exit;
  }
}

/** The delay before each restart (a local stack: exact, no jitter, so its log reads plainly). */
export interface RestartPolicy extends Backoff {
  /** A process that ran this long before it crashed starts again from `initialMs`. */
  healthyAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  initialMs: 100,
  maxMs: 10_000,
  jitter: "none",
  healthyAfterMs: 10_000,
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 1000 ? 1 : 0)} s`;

export interface SupervisedOptions {
  name: string;
  launch: () => Promise<Launched>;
  /** Restart on an unasked exit; without it the exit is only reported through `onExit`. */
  restart: boolean;
  policy?: RestartPolicy;
  log?: Logger | undefined;
  /** An unasked exit (reported whether or not a restart follows). */
  onExit?: (cause: ExitCause) => void;
  /** Whether an exit is worth a restart (a port taken by another program is not). */
  restartable?: (cause: ExitCause) => boolean;
  /** Called with the exit that will not be restarted. */
  onGiveUp?: (cause: ExitCause) => void;
  /** Called each time the process is ready again after a crash. */
  onRestarted?: (launched: Launched, sinceCrashMs: number) => void;
}

export class Supervised {
  readonly name: string;
  readonly #opts: SupervisedOptions;
  readonly #policy: RestartPolicy;
  #current: Launched | undefined;
  #pending: Promise<unknown> | undefined;
  #attempt = 0;
  #readyAt = 0;
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(opts: SupervisedOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  }

  get pid(): number | undefined {
    return this.#current?.pid;
  }

  /** Starts the process; rejects (LaunchFailed) when it does not become ready. */
  async start(): Promise<void> {
    this.#stopped = false;
    const launched = await this.#launch();
    this.#adopt(launched);
  }

  /** Kills it with SIGKILL on purpose: no restart follows (tests use this to simulate an outage). */
  async kill(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    await current?.kill();
  }

  /** Stops it, cancelling a pending restart; resolves once nothing of it runs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#pending?.catch(() => {});
    const current = this.#current;
    this.#current = undefined;
    await current?.stop();
  }

  async #launch(): Promise<Launched> {
    const launching = this.#opts.launch();
    this.#pending = launching;
    try {
      const launched = await launching;
      if (this.#stopped) {
        await launched.stop();
        throw new Error(`${this.name}: stopped while starting`);
      }
      return launched;
    } finally {
      if (this.#pending === launching) this.#pending = undefined;
    }
  }

  #adopt(launched: Launched): void {
    this.#current = launched;
    this.#readyAt = Date.now();
    void launched.exited.then((cause) => {
      if (this.#current !== launched || this.#stopped) return; // asked to stop or kill
      this.#current = undefined;
      this.#opts.onExit?.(cause);
      if (!this.#opts.restart) return;
      if (Date.now() - this.#readyAt >= this.#policy.healthyAfterMs) this.#attempt = 0;
      const restarting = this.#restartAfter(cause, Date.now());
      this.#pending = restarting;
      void restarting.finally(() => {
        if (this.#pending === restarting) this.#pending = undefined;
      });
    });
  }

  async #restartAfter(crash: ExitCause, crashedAt: number): Promise<void> {
    let cause = crash;
    let reason = describeExit(cause);
    for (;;) {
      if (this.#opts.restartable && !this.#opts.restartable(cause)) {
        this.#opts.log?.error(`${this.name} ${reason}; not restarting it`);
        this.#opts.onGiveUp?.(cause);
        return;
      }
      const delay = backoffDelay(this.#attempt++, this.#policy);
      this.#opts.log?.warn(`${this.name} ${reason}; restarting it in ${seconds(delay)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      if (this.#stopped) return;
      try {
        const launched = await this.#opts.launch();
        if (this.#stopped) {
          await launched.stop();
          return;
        }
        this.#adopt(launched);
        this.#opts.onRestarted?.(launched, Date.now() - crashedAt);
        return;
      } catch (err) {
        if (this.#stopped) return;
        cause = err instanceof LaunchFailed ? err.exit : { code: null, signal: null };
        reason = err instanceof LaunchFailed ? describeExit(cause) : (err as Error).message;
        reason = `failed to start again (${reason})`;
      }
    }
  }
}
