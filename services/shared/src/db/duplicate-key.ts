import { mongo } from "mongoose";

/**
 * Whether a write failed on a unique index (`_id` or another). MongoDB and FerretDB's inserts say
 * so with code 11000; FerretDB 1.24's updates (findAndModify, update) report the SQLite constraint
 * under another code, "UNIQUE constraint failed" in the message.
 */
export function isDuplicateKey(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 11000 || (typeof message === "string" && message.includes("UNIQUE constraint failed"));
}

/**
 * Whether a bulk write failed only because some documents were stored already: every write error a
 * duplicate key. A bulk write error without write errors is the connection failing (a timeout), so
 * nothing is known to be stored.
 */
export function onlyDuplicateKeys(err: unknown): err is mongo.MongoBulkWriteError {
  if (!(err instanceof mongo.MongoBulkWriteError) || err.writeConcernError) return false;
  const writeErrors = [err.writeErrors].flat();
  return writeErrors.length > 0 && writeErrors.every((e) => isDuplicateKey(e));
}
