import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { AppError, storageUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";

/**
 * Adapts an async function to a grpc-js unary handler: AppErrors travel with their status and code;
 * anything else is logged and answered INTERNAL without leaking details.
 */
export function unary<Req, Res>(
  log: Logger,
  name: string,
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request, call).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (err instanceof AppError) return callback(err.toServiceError(), null);
        if (isDatabaseUnavailable(err)) {
          log.warn({ err, rpc: name }, "database unavailable");
          return callback(storageUnavailable().toServiceError(), null);
        }
        log.error({ err, rpc: name }, "unexpected error");
        callback({ code: status.INTERNAL, details: "internal error" }, null);
      },
    );
  };
}

const UNAVAILABLE_ERRORS = new Set([
  "MongoServerSelectionError",
  "MongooseServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoNotConnectedError",
  "MongoPoolClearedError",
  "MongoTopologyClosedError",
  "MongoWaitQueueTimeoutError",
]);

/**
 * Mongo driver errors that mean "the database cannot be reached or did not answer in time" rather
 * than a bug. A bulk write that failed as a whole (no per-document error) failed the same way: the
 * driver reports a timed-out `insertMany`/`bulkWrite` as a MongoBulkWriteError without write errors.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { name?: string; writeErrors?: unknown[] } | undefined;
  const name = e?.name ?? "";
  if (UNAVAILABLE_ERRORS.has(name)) return true;
  return name === "MongoBulkWriteError" && Array.isArray(e?.writeErrors) && e.writeErrors.length === 0;
}
