import { cancelled } from './errors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves after `ms` (Infinity: never), or rejects with a CANCELLED RpcError when `signal`
 * fires first (the client cancelled the call, or the mock stopped). Always clears its timer.
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(cancelled('call cancelled'));
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (timer) clearTimeout(timer);
      reject(cancelled('call cancelled'));
    };
    if (ms <= MAX_TIMER_MS) {
      timer = setTimeout(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export type RaceOutcome<T> = { kind: 'done'; value: T } | { kind: 'timeout' } | { kind: 'aborted' };

/**
 * Waits for `promise`, at most `ms` (Infinity: no limit), and no longer than `signal` allows.
 * Never rejects; clears its timer and listener however it ends.
 */
export function raceTimeout<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal,
): Promise<RaceOutcome<T>> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (outcome: RaceOutcome<T>) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => settle({ kind: 'aborted' });
    if (signal.aborted) {
      settle({ kind: 'aborted' });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (ms <= MAX_TIMER_MS) timer = setTimeout(() => settle({ kind: 'timeout' }), Math.max(0, ms));
    promise.then(
      (value) => settle({ kind: 'done', value }),
      () => settle({ kind: 'aborted' }),
    );
  });
}
