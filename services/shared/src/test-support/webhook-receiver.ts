/**
 * A real HTTP server on 127.0.0.1 that receives webhook deliveries, for tests: it records each
 * request and answers with the statuses the test scripts (each request takes the next; the last
 * repeats), or holds requests open to stand for an attempt in flight.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedDelivery {
  headers: IncomingMessage["headers"];
  /** The raw body, as a receiver must verify it (before any JSON parsing). */
  body: string;
  at: number;
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  /** The statuses of the next answers; the last one repeats. */
  statuses: number[] = [200];
  /** While true, requests are held open unanswered. */
  hold = false;
  readonly #held: ServerResponse[] = [];
  readonly #server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() });
      if (this.hold) {
        this.#held.push(res);
        return;
      }
      const status = this.statuses.length > 1 ? this.statuses.shift()! : this.statuses[0]!;
      res.writeHead(status, { "content-type": "text/plain" }).end(`answer ${status}`);
    });
  });

  /** Starts listening on a free port and returns the URL to register. */
  async listen(path = "/hooks"): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  /** The deliveries received with this event type header. */
  ofType(type: string): ReceivedDelivery[] {
    return this.received.filter((r) => r.headers["facerec-event-type"] === type);
  }

  close(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
