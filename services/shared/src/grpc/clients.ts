import {
  type CallOptions,
  type ChannelOptions,
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { fromGrpcError } from "../errors.ts";
import { MAX_MESSAGE_BYTES } from "./server.ts";

const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // Reconnect quickly after a peer restarts: internal services restart in well under a second.
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2000,
};

type ClientConstructor<C extends Client> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: ChannelOptions,
) => C;

/** An insecure client for an internal service address (`host:port`); internal traffic stays inside the cluster network. */
export function internalClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: string,
  options: ChannelOptions = {},
): C {
  return new Ctor(address, credentials.createInsecure(), { ...CHANNEL_OPTIONS, ...options });
}

/** A call deadline `ms` from now. */
export function deadline(ms = 5000): Date {
  return new Date(Date.now() + ms);
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a generated unary client method as a promise; errors become AppErrors with their code. */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  timeoutMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: deadline(timeoutMs) }, (error, response) =>
      error ? reject(fromGrpcError(error)) : resolve(response),
    );
  });
}

interface HealthClient extends Client {
  check: UnaryMethod<{ service: string }, { status: string | number }>;
}
const HealthClient = makeGenericClientConstructor(
  healthService as unknown as ServiceDefinition,
  "Health",
) as unknown as ClientConstructor<HealthClient>;

/** A grpc.health.v1 client of an internal server, for readiness checks. */
export class HealthCheck {
  readonly #client: HealthClient;

  constructor(address: string) {
    this.#client = internalClient(HealthClient, address);
  }

  /** True when the server (or `service`) answers SERVING within `timeoutMs`. */
  serving(service = "", timeoutMs = 1000): Promise<boolean> {
    return callUnary(this.#client.check.bind(this.#client), { service }, timeoutMs).then(
      // The generic client decodes enums as their names.
      (response) => response.status === "SERVING" || response.status === 1,
      () => false,
    );
  }

  close(): void {
    this.#client.close();
  }
}
