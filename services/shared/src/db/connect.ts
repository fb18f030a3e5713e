import mongoose, { type Connection } from "mongoose";

/**
 * Opens a mongoose connection. Each service owns its own connection and models. Timeouts are short
 * so a database outage surfaces as UNAVAILABLE quickly instead of hanging requests.
 */
export async function connectDatabase(url: string, dbName: string): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: 20,
    autoIndex: true,
  });
  await connection.asPromise();
  return connection;
}
