/**
 * A server-streaming call a service keeps open for as long as it runs (the revocation feed, the
 * gallery feed): opened at start, and whenever it ends or fails, opened again after a backoff until
 * closed. The backoff starts over once a message arrives. What the messages mean, and what losing
 * the stream means, stays with the caller.
 */
import type { ClientReadableStream } from "@grpc/grpc-js";
import { type Backoff, backoffDelay } from "../backoff.ts";

export interface StreamFollowerOptions<T> {
  /** Opens the call (again): read the resume position, if any, here. */
  open: () => ClientReadableStream<T>;
  onData: (message: T) => void;
  /** The stream ended or failed; `retryInMs` is undefined when closed (no new call follows). */
  onLost: (err: Error | undefined, retryInMs: number | undefined) => void;
  resubscribe: Backoff;
}

export class StreamFollower<T> {
  readonly #opts: StreamFollowerOptions<T>;
  #stream: ClientReadableStream<T> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;

  constructor(opts: StreamFollowerOptions<T>) {
    this.#opts = opts;
  }

  start(): void {
    this.#subscribe();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#stream?.cancel();
  }

  #subscribe(): void {
    if (this.#closed) return;
    const stream = this.#opts.open();
    this.#stream = stream;
    stream.on("data", (message: T) => {
      this.#attempt = 0;
      this.#opts.onData(message);
    });
    const lost = (err?: Error) => {
      // "error" and "end" can both come; a stream already replaced is not ours to retry.
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      const retryInMs = this.#closed ? undefined : backoffDelay(this.#attempt++, this.#opts.resubscribe);
      this.#opts.onLost(err, retryInMs);
      if (retryInMs !== undefined) this.#retryTimer = setTimeout(() => this.#subscribe(), retryInMs);
    };
    stream.on("error", lost);
    stream.on("end", () => lost());
  }
}
