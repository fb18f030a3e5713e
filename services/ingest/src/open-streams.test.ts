/** Stream admission and revocation rules of OpenStreams. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppError } from "@facerec/shared/errors.ts";
import { type ClosableStream, OpenStreams } from "./open-streams.ts";

const stream = (keyId: string, issuedAt = 1000) => {
  const s: ClosableStream & { closedWith?: string } = {
    keyId,
    issuedAt,
    close(error: AppError) {
      s.closedWith = error.code;
    },
  };
  return s;
};

describe("OpenStreams", () => {
  it("caps streams per key and in total with RESOURCE_EXHAUSTED, and frees a slot on release", () => {
    const open = new OpenStreams({ maxStreams: 3, maxStreamsPerKey: 2 });
    const release = open.admit(stream("a"));
    open.admit(stream("a"));
    assert.throws(() => open.admit(stream("a")), { code: "too_many_streams_for_key" });
    open.admit(stream("b"));
    assert.throws(() => open.admit(stream("c")), { code: "too_many_streams" });
    release();
    release();
    assert.equal(open.count, 2, "releasing twice frees one slot");
    open.admit(stream("c"));
  });

  it("closes a revoked key's streams whose tokens were issued no later than the revocation", () => {
    const open = new OpenStreams({ maxStreams: 10, maxStreamsPerKey: 10 });
    const older = stream("k", 1000);
    const sameSecond = stream("k", 1005);
    const newer = stream("k", 1006);
    const otherKey = stream("other", 1000);
    for (const s of [older, sameSecond, newer, otherKey]) open.admit(s);
    const closed = open.revoke({ keyId: "k", tenantId: "t", revokedAt: new Date(1005_500), reason: 1 });
    assert.equal(closed, 2);
    assert.deepEqual(
      [older.closedWith, sameSecond.closedWith, newer.closedWith, otherKey.closedWith],
      ["token_revoked", "token_revoked", undefined, undefined],
    );
  });
});
