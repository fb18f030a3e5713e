/**
 * A database for one test file: the same resolution as production (MONGO_URL, testcontainers,
 * FerretDB), on a free port and a throw-away data folder, with a database name of its own so test
 * files never see each other's data even when they share a MONGO_URL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../net.ts";
import { provideDatabase } from "./database.ts";

export interface TestDatabase {
  url: string;
  dbName: string;
  stop(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "facerec-test-db-"));
  const db = await provideDatabase({ mongoUrl: process.env.MONGO_URL, dataDir, port: await freePort() });
  return {
    url: db.url,
    dbName: `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`,
    async stop() {
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
