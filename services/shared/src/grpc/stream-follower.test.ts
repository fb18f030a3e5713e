// The follower's own logic against stand-in streams (an EventEmitter with cancel); the real feeds
// over real gRPC are covered by the revocation and gallery tests on the stack.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { StreamFollower } from "./stream-follower.ts";

class FakeStream extends EventEmitter {
  cancelled = false;
  cancel() {
    this.cancelled = true;
    this.emit("error", new Error("cancelled"));
  }
}

function follower() {
  const opened: FakeStream[] = [];
  const received: string[] = [];
  const lost: (number | undefined)[] = [];
  const f = new StreamFollower<string>({
    open: () => {
      const s = new FakeStream();
      opened.push(s);
      return s as unknown as ClientReadableStream<string>;
    },
    onData: (m) => received.push(m),
    onLost: (_err, retryInMs) => lost.push(retryInMs),
    resubscribe: { initialMs: 20, maxMs: 40, jitter: "none" },
  });
  return { f, opened, received, lost };
}

describe("StreamFollower", () => {
  it("opens the call again after it fails or ends, backing off, and starts over once a message arrives", async () => {
    const { f, opened, received, lost } = follower();
    f.start();
    opened[0]!.emit("error", new Error("unavailable"));
    opened[0]!.emit("end"); // both may come: one retry only
    assert.deepEqual(lost, [20]);
    await sleep(60);
    assert.equal(opened.length, 2);
    opened[1]!.emit("end");
    assert.deepEqual(lost, [20, 40]);
    await sleep(80);
    opened[2]!.emit("data", "snapshot");
    opened[2]!.emit("end");
    assert.deepEqual(received, ["snapshot"]);
    assert.deepEqual(lost, [20, 40, 20], "the backoff starts over after a message");
    f.close();
  });

  it("close() cancels the call and opens none after it", async () => {
    const { f, opened, lost } = follower();
    f.start();
    f.close();
    assert.equal(opened[0]!.cancelled, true);
    assert.deepEqual(lost, [undefined]);
    await sleep(60);
    assert.equal(opened.length, 1);
  });
});
