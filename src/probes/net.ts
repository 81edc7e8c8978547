import { isIPv6, Socket } from 'node:net';
import { onAbort } from '../util/abort.js';
import { ProbeError } from './errors.js';
import type { ProbeContainer, ProbeOutcome } from './types.js';

/** Go's net.JoinHostPort: brackets around IPv6 literals. */
export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Upstream probe.ResolveContainerPort: a number, or the name of a container port (falling back
 * to a number written as a string); valid ports are 1..65535. Throws ProbeError with Go's text.
 */
export function resolveContainerPort(port: number | string, container: ProbeContainer): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new ProbeError(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (Number.isInteger(n) && n > 0 && n < 65536) return n;
  throw new ProbeError(`invalid port number: ${n}`);
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  EADDRNOTAVAIL: 'connect: cannot assign requested address',
  ETIMEDOUT: 'i/o timeout',
};

/** A Node socket error as Go's net package words it ("dial tcp 10.0.0.5:80: connect: connection refused"). */
export function dialErrorText(err: unknown, addr: string): string {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const connect = CONNECT_ERRORS[code];
  if (connect) return `dial tcp ${addr}: ${connect}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `dial tcp: lookup ${addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')}: no such host`;
  }
  if (code === 'ECONNRESET') return 'read: connection reset by peer';
  if (e?.message === 'socket hang up' || e?.message === 'unexpected EOF') return 'EOF';
  return e?.message ?? String(err);
}

/**
 * A TCP probe (upstream pkg/probe/tcp): connect within the timeout, then close. Success has no
 * output; a failure carries the dial error.
 */
export function tcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = new Socket();
    let done = false;
    let detach = () => {};
    const finish = (outcome: ProbeOutcome, output: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      detach();
      socket.destroy();
      resolve({ outcome, output });
    };
    const timer = setTimeout(() => finish('failure', `dial tcp ${addr}: i/o timeout`), timeoutMs);
    detach = onAbort(signal, () => finish('failure', `dial tcp ${addr}: operation was canceled`));
    socket.once('connect', () => finish('success', ''));
    socket.once('error', (err) => finish('failure', dialErrorText(err, addr)));
    socket.connect({ host, port });
  });
}
