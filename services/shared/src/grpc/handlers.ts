import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { AppError } from "../errors.ts";
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
          return callback(
            new AppError(status.UNAVAILABLE, "database_unavailable", "database unavailable").toServiceError(),
            null,
          );
        }
        log.error({ err, rpc: name }, "unexpected error");
        callback({ code: status.INTERNAL, details: "internal error" }, null);
      },
    );
  };
}

/** Mongo driver errors that mean "the database cannot be reached right now" rather than a bug. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? "";
  return /MongoServerSelectionError|MongoNetworkError|MongoNotConnectedError|MongoNetworkTimeoutError|MongoPoolClearedError|MongoTopologyClosedError/.test(
    name,
  );
}
