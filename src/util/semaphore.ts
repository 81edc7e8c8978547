import { AbortedError } from './abort.js';

/**
 * A FIFO counting semaphore. Waiters are served strictly in arrival order, so when the runtime
 * is the bottleneck the pods that asked first finish first (a better p50 than a free-for-all).
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal }[] =
    [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`semaphore limit must be >= 1, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const w = { resolve, reject, signal };
      this.waiters.push(w);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            reject(new AbortedError(signal.reason));
          }
        },
        { once: true },
      );
    });
    return this.releaser();
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.active--;
    };
  }
}
