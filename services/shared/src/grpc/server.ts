/**
 * Starts a gRPC server the way every service of the platform needs it: the service's own handlers
 * plus grpc.health.v1 and server reflection (so grpcurl works), message-size limits and keepalive.
 */

import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "../logger.ts";
import { reflectionFor } from "./reflection.ts";

/** 4 MiB: a batch of 256 observations with 512-d embeddings and thumbnails fits; anything larger is refused. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface ServiceBinding {
  /** Fully-qualified service name, e.g. `facerec.internal.keys.v1.KeysService`. */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface RunningGrpcServer {
  port: number;
  health: HealthImplementation;
  /**
   * Sets grpc.health.v1 of each of the server's services: SERVING or NOT_SERVING (readiness). The
   * server as a whole ("") stays SERVING while the process is up (liveness).
   */
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

export async function startGrpcServer(opts: {
  host: string;
  port: number;
  services: ServiceBinding[];
  log: Logger;
  options?: Record<string, number>;
}): Promise<RunningGrpcServer> {
  const server = new Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 10_000,
    ...opts.options,
  });
  for (const service of opts.services) server.addService(service.definition, service.implementation);

  const health = new HealthImplementation(
    Object.fromEntries([["", "SERVING"], ...opts.services.map((s) => [s.name, "SERVING"])]),
  );
  health.addToServer(server);
  reflectionFor(opts.services.map((s) => s.name)).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  opts.log.info({ port, services: opts.services.map((s) => s.name) }, "gRPC server listening");
  return {
    port,
    health,
    setServing: (serving) => {
      for (const s of opts.services) health.setStatus(s.name, serving ? "SERVING" : "NOT_SERVING");
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of opts.services) health.setStatus(s.name, "NOT_SERVING");
        // Give in-flight calls a moment, then cut long-lived streams so shutdown is bounded.
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
