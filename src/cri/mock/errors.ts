import { status } from '@grpc/grpc-js';

/** An RPC failure the mock answers with: a gRPC status code and containerd's message text. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: status;
  readonly details: string;

  constructor(code: status, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}

export const notFound = (details: string) => new RpcError(status.NOT_FOUND, details);
export const unknown = (details: string) => new RpcError(status.UNKNOWN, details);
export const deadlineExceeded = (details: string) => new RpcError(status.DEADLINE_EXCEEDED, details);
export const cancelled = (details: string) => new RpcError(status.CANCELLED, details);
export const unimplemented = (details: string) => new RpcError(status.UNIMPLEMENTED, details);
