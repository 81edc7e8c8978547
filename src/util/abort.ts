/** Cancellable waiting, in the shape of Node's timers/promises: reject at once when aborted. */

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'operation aborted', { cause: reason });
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}

/** Resolves after `ms`, or rejects with AbortedError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` when `signal` aborts; returns a function that detaches the listener. Use it instead
 * of AbortSignal.any over long-lived signals (which leaks listeners on Node 20).
 */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    fn();
    return () => {};
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/** A child controller aborted when the parent aborts; `dispose` detaches it from the parent. */
export function childController(parent?: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  const dispose = onAbort(parent, () => controller.abort(parent?.reason));
  return { controller, dispose };
}
