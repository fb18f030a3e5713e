/**
 * Exponential backoff for the services: retries, reconnects, sign-in locks (the worker, a package
 * of its own, has its own in worker/src/backoff.ts). Computing a delay is all they need from it:
 * each loop is driven by a timer or a database row, not by a promise a retry library could wrap.
 */
export interface Backoff {
  /** The wait before the first retry. */
  readonly initialMs: number;
  /** The longest wait. */
  readonly maxMs: number;
  /**
   * How the wait is spread so that clients that failed together do not retry together (the AWS
   * Architecture Blog's names): "full" draws from [0, wait), "equal" from [wait/2, wait), "none"
   * waits exactly.
   */
  readonly jitter: "full" | "equal" | "none";
}

/** The wait before retry number `attempt` (0 for the first): min(maxMs, initialMs · 2^attempt), spread by the jitter. */
export function backoffDelay(attempt: number, policy: Backoff, random: () => number = Math.random): number {
  const wait = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  if (policy.jitter === "full") return wait * random();
  if (policy.jitter === "equal") return wait * (0.5 + random() / 2);
  return wait;
}
