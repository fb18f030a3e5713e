import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** Trailing-metadata key that carries an error's stable machine code across gRPC. */
export const ERROR_CODE_KEY = "facerec-error-code";

/**
 * An error with a stable machine `code` (the problem+json `code` at the REST edge) and the gRPC
 * status it travels as. Callers branch on `code`, never on message text.
 */
export class AppError extends Error {
  readonly grpcStatus: status;
  readonly code: string;

  constructor(grpcStatus: status, code: string, message: string) {
    super(message);
    this.name = "AppError";
    this.grpcStatus = grpcStatus;
    this.code = code;
  }

  toServiceError(): Partial<ServiceError> {
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_KEY, this.code);
    return { code: this.grpcStatus, details: this.message, metadata };
  }
}

export const invalidArgument = (code: string, message: string) =>
  new AppError(status.INVALID_ARGUMENT, code, message);
export const notFound = (message: string) => new AppError(status.NOT_FOUND, "not_found", message);
export const permissionDenied = (message: string) =>
  new AppError(status.PERMISSION_DENIED, "forbidden", message);
export const unauthenticated = (code: string, message: string) =>
  new AppError(status.UNAUTHENTICATED, code, message);

/** Rebuilds an AppError from an error received from a gRPC call, keeping its code. */
export function fromGrpcError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e?.code === "number") {
    const code = e.metadata?.get(ERROR_CODE_KEY)[0];
    const fallback =
      e.code === status.UNAVAILABLE || e.code === status.DEADLINE_EXCEEDED
        ? "service_unavailable"
        : "internal";
    return new AppError(
      e.code,
      typeof code === "string" ? code : fallback,
      e.details || e.message || "error",
    );
  }
  return new AppError(status.INTERNAL, "internal", err instanceof Error ? err.message : String(err));
}
