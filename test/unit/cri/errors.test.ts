import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { criTarget } from '../../../src/cri/client.js';
import {
  CriError,
  CriNotFoundError,
  CriUnavailableError,
  isCriNotFound,
  toCriError,
} from '../../../src/cri/errors.js';

describe('toCriError', () => {
  it.each([
    [status.NOT_FOUND, 'NotFound', CriNotFoundError],
    [status.UNAVAILABLE, 'Unavailable', CriUnavailableError],
    [status.DEADLINE_EXCEEDED, 'DeadlineExceeded', CriError],
    [status.UNIMPLEMENTED, 'Unimplemented', CriError],
    [status.INTERNAL, 'Unknown', CriError],
  ])('maps gRPC code %i to kind %s', (code, kind, cls) => {
    const e = toCriError({ code, details: 'container "x" not found', message: 'raw' }, 'ContainerStatus');
    expect(e).toBeInstanceOf(cls);
    expect(e.kind).toBe(kind);
    expect(e.code).toBe(code);
    expect(e.message).toBe('CRI ContainerStatus: container "x" not found');
  });

  it('wraps a non-gRPC error as Unknown and keeps the cause', () => {
    const cause = new Error('boom');
    const e = toCriError(cause, 'Version');
    expect(e.kind).toBe('Unknown');
    expect(e.cause).toBe(cause);
    expect(isCriNotFound(e)).toBe(false);
  });
});

describe('criTarget', () => {
  it('accepts unix URLs and bare paths', () => {
    expect(criTarget('unix:///run/containerd/containerd.sock')).toBe(
      'unix:///run/containerd/containerd.sock',
    );
    expect(criTarget('unix:/run/x.sock')).toBe('unix:///run/x.sock');
    expect(criTarget('/run/x.sock')).toBe('unix:///run/x.sock');
  });
  it('rejects other schemes with a clear message', () => {
    expect(() => criTarget('tcp://1.2.3.4:1')).toThrow(/unsupported container runtime endpoint/);
  });
});
