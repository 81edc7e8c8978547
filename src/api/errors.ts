import type { Status } from './types.js';

/**
 * A failed API request: the HTTP code, the Status reason the apiserver gave (NotFound,
 * Conflict, AlreadyExists, Forbidden, Expired, Gone, ...) and its message.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  readonly reason: string;
  readonly status: Status | undefined;

  constructor(code: number, reason: string, message: string, status?: Status, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

/** A network-level failure reaching the apiserver (refused, reset, timeout, TLS). */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean =>
  e instanceof ApiError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');
export const isForbidden = (e: unknown): boolean => e instanceof ApiError && e.code === 403;
