/**
 * One way to get a database, shared by `npm start`, the tests and the benchmarks:
 * MONGO_URL if set; else a MongoDB container when a Docker engine answers (testcontainers);
 * else the embedded FerretDB. Whatever is returned speaks the MongoDB wire protocol.
 */

import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import type { Logger } from "../logger.ts";
import { startFerretDb } from "./ferretdb.ts";

export interface Database {
  /** Connection string, without a database name. */
  url: string;
  kind: "external" | "testcontainers" | "ferretdb";
  /** The embedded server's current process, which the stack runner supervises (none for the others). */
  readonly process?: ChildProcess;
  /** Starts the embedded server again on the same port and data, after its process died. */
  restart?(): Promise<void>;
  stop(): Promise<void>;
}

export interface DatabaseOptions {
  mongoUrl?: string | undefined;
  dataDir: string;
  port: number;
  log?: Logger;
}

/** True when a Docker engine answers on DOCKER_HOST or the default socket within a second. */
export function dockerEngineAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  let target: { socketPath: string } | { host: string; port: number };
  if (host.startsWith("tcp://")) {
    const url = new URL(host.replace("tcp://", "http://"));
    target = { host: url.hostname, port: Number(url.port) };
  } else {
    const socketPath = host.replace("unix://", "");
    if (!existsSync(socketPath)) return Promise.resolve(false);
    target = { socketPath };
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export async function provideDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.mongoUrl) {
    opts.log?.debug("database: MONGO_URL");
    return { url: opts.mongoUrl, kind: "external", stop: async () => {} };
  }
  if (await dockerEngineAnswers()) {
    opts.log?.debug("database: MongoDB 7 in a container (testcontainers)");
    const { MongoDBContainer } = await import("@testcontainers/mongodb");
    const container = await new MongoDBContainer("mongo:7").start();
    return {
      url: `${container.getConnectionString()}/?directConnection=true`,
      kind: "testcontainers",
      stop: async () => {
        await container.stop();
      },
    };
  }
  opts.log?.debug({ dataDir: opts.dataDir, port: opts.port }, "database: embedded FerretDB (SQLite)");
  const ferretOptions = { dataDir: opts.dataDir, port: opts.port, ...(opts.log ? { log: opts.log } : {}) };
  let ferret = await startFerretDb(ferretOptions);
  return {
    url: ferret.url,
    kind: "ferretdb",
    get process() {
      return ferret.process;
    },
    async restart() {
      ferret = await startFerretDb(ferretOptions);
    },
    stop: () => ferret.stop(),
  };
}
