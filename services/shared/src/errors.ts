import { type FailureCode, isFailureCode } from "@facerec/proto/failure-codes.ts";
import { ErrorInfo } from "@facerec/proto/google/rpc/error_details.ts";
import { Status } from "@facerec/proto/google/rpc/status.ts";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** Trailing-metadata key that carries an error's stable machine code across gRPC, for simple clients. */
export const ERROR_CODE_KEY = "facerec-error-code";
/**
 * Trailing-metadata key of the rich error model, a google.rpc.Status, which gRPC libraries decode
 * (grpcio-status's `rpc_status.from_call`, grpc-go's `status.FromError`).
 */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
/** ErrorInfo.domain of every facerec error: the reasons (the stable codes) are unique within it. */
export const ERROR_DOMAIN = "facerec.dev";
const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";

/**
 * An error with a stable machine `code` (the problem+json `code` at the REST edge; one of the table
 * in proto/failure-codes.ts) and the gRPC status it travels as. Callers branch on `code`, never on
 * message text.
 */
export class AppError extends Error {
  readonly grpcStatus: status;
  readonly code: FailureCode;

  constructor(grpcStatus: status, code: FailureCode, message: string) {
    super(message);
    this.name = "AppError";
    this.grpcStatus = grpcStatus;
    this.code = code;
  }

  toServiceError(): Partial<ServiceError> {
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_KEY, this.code);
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode(this.toStatus()).finish()));
    return { code: this.grpcStatus, details: this.message, metadata };
  }

  /** The rich error: its status, message and an ErrorInfo whose reason is `code`. */
  toStatus(): Status {
    const info = Buffer.from(
      ErrorInfo.encode({ reason: this.code, domain: ERROR_DOMAIN, metadata: {} }).finish(),
    );
    return {
      code: this.grpcStatus,
      message: this.message,
      details: [{ typeUrl: ERROR_INFO_TYPE, value: info }],
    };
  }
}

/** The ErrorInfo of a google.rpc.Status trailer, when there is one. */
export function errorInfoOf(metadata: Metadata): ErrorInfo | undefined {
  const [bytes] = metadata.get(STATUS_DETAILS_KEY);
  if (!Buffer.isBuffer(bytes)) return undefined;
  const detail = Status.decode(bytes).details.find((d) => d.typeUrl === ERROR_INFO_TYPE);
  return detail ? ErrorInfo.decode(detail.value) : undefined;
}

export const invalidArgument = (code: FailureCode, message: string) =>
  new AppError(status.INVALID_ARGUMENT, code, message);
export const notFound = (message: string) => new AppError(status.NOT_FOUND, "not_found", message);
export const permissionDenied = (message: string) =>
  new AppError(status.PERMISSION_DENIED, "forbidden", message);
/** What API keys (machines) may not do, whatever their role: create users, or create or change admin keys. */
export const notForApiKeys = (message: string) =>
  new AppError(status.PERMISSION_DENIED, "not_allowed_for_api_keys", message);
export const unauthenticated = (code: FailureCode, message: string) =>
  new AppError(status.UNAUTHENTICATED, code, message);
/** The database did not answer (in time): the call had no effect the caller can rely on; retry. */
export const storageUnavailable = (message = "the database did not answer in time; retry shortly") =>
  new AppError(status.UNAVAILABLE, "storage_unavailable", message);

/** What a caller is told when an internal call failed in transport: no addresses, no timings. */
const TRANSPORT_FAILURES: Partial<Record<status, [code: FailureCode, message: string]>> = {
  [status.UNAVAILABLE]: ["service_unavailable", "a platform service is unavailable; retry shortly"],
  [status.DEADLINE_EXCEEDED]: [
    "service_unavailable",
    "a platform service did not answer in time; retry shortly",
  ],
};

/**
 * Rebuilds an AppError from an error received from a gRPC call, keeping its code. Errors our
 * services raised carry their code and a message meant for the caller; anything else (a transport
 * failure: connection refused, deadline exceeded; a code the table lacks, from a service of another
 * version) gets a generic message, its own details (peer addresses, timings) kept only as the
 * `cause` for the logs.
 */
export function fromGrpcError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e?.code === "number") {
    const code = e.metadata?.get(ERROR_CODE_KEY)[0];
    if (isFailureCode(code)) return new AppError(e.code, code, e.details || e.message || "error");
    const [fallbackCode, message] = TRANSPORT_FAILURES[e.code as status] ?? ["internal", "internal error"];
    return Object.assign(new AppError(e.code, fallbackCode, message), { cause: err });
  }
  return new AppError(status.INTERNAL, "internal", err instanceof Error ? err.message : String(err));
}
