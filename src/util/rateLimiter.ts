import { sleep } from './abort.js';

/**
 * A token bucket (client-go flowcontrol's token-bucket rate limiter): `burst` tokens, refilled at
 * `qps` per second; `take()` resolves when a request may go. The clock is injectable for tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.qps = qps;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token now when there is one (client-go TryAccept). */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token (client-go Wait); rejects when `signal` aborts. */
  async take(signal?: AbortSignal): Promise<void> {
    while (!this.tryTake()) {
      await sleep(Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000)), signal);
    }
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }
}
