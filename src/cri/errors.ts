import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errorMessage } from '../util/errors.js';

/** What went wrong with a CRI call, as callers switch on it. */
export type CriErrorKind =
  | 'NotFound'
  | 'Unavailable'
  | 'DeadlineExceeded'
  | 'Unimplemented'
  | 'Cancelled'
  | 'InvalidArgument'
  | 'AlreadyExists'
  | 'ResourceExhausted'
  | 'FailedPrecondition'
  | 'Unknown';

const KIND_BY_CODE: Partial<Record<number, CriErrorKind>> = {
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.CANCELLED]: 'Cancelled',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
};

/** A failed CRI call: the gRPC status, the method, and the runtime's own message. */
export class CriError extends Error {
  override readonly name: string = 'CriError';
  readonly kind: CriErrorKind;
  /** The gRPC status code number. */
  readonly code: number;
  readonly method: string;
  /** The runtime's message without the gRPC prefix. */
  readonly details: string;

  constructor(kind: CriErrorKind, code: number, method: string, details: string, cause?: unknown) {
    super(`CRI ${method}: ${details || kind}`, { cause });
    this.kind = kind;
    this.code = code;
    this.method = method;
    this.details = details;
  }
}

export class CriNotFoundError extends CriError {
  override readonly name = 'CriNotFoundError';
}
export class CriUnavailableError extends CriError {
  override readonly name = 'CriUnavailableError';
}
export class CriDeadlineExceededError extends CriError {
  override readonly name = 'CriDeadlineExceededError';
}
export class CriUnimplementedError extends CriError {
  override readonly name = 'CriUnimplementedError';
}
export class CriCancelledError extends CriError {
  override readonly name = 'CriCancelledError';
}

function isServiceError(err: unknown): err is ServiceError {
  return (
    typeof err === 'object' && err !== null && 'code' in err && typeof (err as ServiceError).code === 'number'
  );
}

/** Maps a grpc-js error to the typed CriError a caller can switch on. */
export function toCriError(err: unknown, method: string): CriError {
  if (err instanceof CriError) return err;
  if (!isServiceError(err)) {
    return new CriError('Unknown', GrpcStatus.UNKNOWN, method, errorMessage(err), err);
  }
  const kind = KIND_BY_CODE[err.code] ?? 'Unknown';
  const details = err.details ?? err.message;
  switch (kind) {
    case 'NotFound':
      return new CriNotFoundError(kind, err.code, method, details, err);
    case 'Unavailable':
      return new CriUnavailableError(kind, err.code, method, details, err);
    case 'DeadlineExceeded':
      return new CriDeadlineExceededError(kind, err.code, method, details, err);
    case 'Unimplemented':
      return new CriUnimplementedError(kind, err.code, method, details, err);
    case 'Cancelled':
      return new CriCancelledError(kind, err.code, method, details, err);
    default:
      return new CriError(kind, err.code, method, details, err);
  }
}

export function isCriNotFound(err: unknown): err is CriNotFoundError {
  return err instanceof CriError && err.kind === 'NotFound';
}
export function isCriUnavailable(err: unknown): boolean {
  return err instanceof CriError && err.kind === 'Unavailable';
}
export function isCriUnimplemented(err: unknown): boolean {
  return err instanceof CriError && err.kind === 'Unimplemented';
}

/** What a status message quotes of a runtime error: the gRPC details when there are some (upstream err.Error()). */
export function runtimeErrorMessage(err: unknown): string {
  if (err instanceof CriError) return err.details || err.message;
  return errorMessage(err);
}
