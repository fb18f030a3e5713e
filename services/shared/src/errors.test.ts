/** How failures travel: stable codes across gRPC, transport details kept out of what callers see. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, status } from "@grpc/grpc-js";
import mongoose from "mongoose";
import { ERROR_CODE_KEY, fromGrpcError, storageUnavailable } from "./errors.ts";
import { isDatabaseUnavailable } from "./grpc/handlers.ts";

describe("fromGrpcError", () => {
  it("keeps the code and message our services send", () => {
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_KEY, "storage_unavailable");
    const error = fromGrpcError({
      code: status.UNAVAILABLE,
      details: "the database did not answer",
      metadata,
    });
    assert.deepEqual(
      [error.grpcStatus, error.code, error.message],
      [status.UNAVAILABLE, "storage_unavailable", "the database did not answer"],
    );
  });

  it("replaces a transport failure's details (addresses, timings) with a generic message, kept as the cause", () => {
    const details = "Deadline exceeded after 5.001s,name resolution: 0.001s,remote_addr=127.0.0.1:50053";
    const raw = { code: status.DEADLINE_EXCEEDED, details, metadata: new Metadata() };
    const error = fromGrpcError(raw);
    assert.equal(error.code, "service_unavailable");
    assert.doesNotMatch(error.message, /127\.0\.0\.1|remote_addr|5\.001/);
    assert.equal(error.cause, raw);
    const refused = fromGrpcError({
      code: status.UNAVAILABLE,
      details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50062",
    });
    assert.equal(refused.code, "service_unavailable");
    assert.doesNotMatch(refused.message, /127\.0\.0\.1|ECONNREFUSED/);
  });

  it("gives every storage failure one code", () => {
    assert.deepEqual(
      [storageUnavailable().grpcStatus, storageUnavailable().code],
      [status.UNAVAILABLE, "storage_unavailable"],
    );
  });
});

describe("isDatabaseUnavailable", () => {
  it("recognises the driver's timeouts and unreachable servers", () => {
    assert.ok(isDatabaseUnavailable(new mongoose.mongo.MongoNetworkTimeoutError("connection 3 timed out")));
    assert.ok(isDatabaseUnavailable(new mongoose.mongo.MongoNetworkError("connect ECONNREFUSED")));
    assert.ok(isDatabaseUnavailable({ name: "MongoServerSelectionError" }));
  });

  it("counts a bulk write that failed as a whole, but not one refused per document", () => {
    assert.ok(isDatabaseUnavailable({ name: "MongoBulkWriteError", writeErrors: [] }));
    assert.equal(
      isDatabaseUnavailable({ name: "MongoBulkWriteError", writeErrors: [{ code: 11000 }] }),
      false,
    );
    assert.equal(isDatabaseUnavailable(new Error("a bug")), false);
  });
});
