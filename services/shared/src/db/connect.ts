import mongoose, { type Connection } from "mongoose";

/**
 * How long one database call may wait for an answer before it fails (MongoNetworkTimeoutError,
 * answered as UNAVAILABLE `storage_unavailable`), so a stuck database gives callers a clear 503
 * within about 3 s, below the gateway's 5 s call deadline, never a hung request. Measured against
 * a frozen FerretDB (SIGSTOP): with the driver's automatic retries a call took 7 to 63 s (each retry
 * selects a server and opens connections again), so retries are off; callers retry (workers replay
 * unacknowledged batches, which the unique index makes idempotent).
 */
export const DB_CALL_TIMEOUT_MS = 3000;

/**
 * Opens a mongoose connection. Each service owns its own connection and models. Timeouts are short
 * so a database outage surfaces as UNAVAILABLE quickly instead of hanging requests; commands are
 * never queued while disconnected (the driver's server selection fails them after its timeout).
 * Tools whose single calls are legitimately long (bulk loads, index builds over millions of
 * documents) pass a longer `callTimeoutMs`.
 */
export async function connectDatabase(
  url: string,
  dbName: string,
  opts: { callTimeoutMs?: number } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS: 1000,
    // Opening a pool connection to a database that accepts but never answers must fail as fast.
    connectTimeoutMS: 1500,
    socketTimeoutMS: opts.callTimeoutMs ?? DB_CALL_TIMEOUT_MS,
    retryReads: false,
    retryWrites: false,
    bufferCommands: false,
    maxPoolSize: 20,
    autoIndex: true,
  });
  await connection.asPromise();
  return connection;
}
