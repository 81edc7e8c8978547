/**
 * Per-key exponential backoff as upstream's flowcontrol.Backoff: the first `next` starts at
 * `initialMs`, each later one doubles up to `maxMs`; an entry whose last update is older than
 * 2 × maxMs is forgotten (so a container that ran 10 min without crashing starts over at 10 s).
 * Pure state machine: callers pass `now`. Bounded: at most `maxEntries` keys (oldest dropped).
 */
export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The current delay for `key` (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /**
   * Records one more failure/restart of `key` at `eventTime`: starts at initial, then doubles
   * up to max; an entry last updated more than 2 × max before `eventTime` starts over.
   */
  next(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    const expired = !e || eventTime - e.lastUpdate > 2 * this.maxMs;
    const delayMs = expired ? this.initialMs : Math.min(e.delayMs * 2, this.maxMs);
    this.entries.delete(key);
    this.entries.set(key, { delayMs, lastUpdate: eventTime });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return delayMs;
  }

  /** True while `eventTime` + the current delay of `key` is still in the future. */
  isInBackOffSince(key: string, eventTime: number, now: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (eventTime - e.lastUpdate > 2 * this.maxMs) return false;
    return now - eventTime < e.delayMs;
  }

  /** True while less than the current delay has passed since `key` was last updated. */
  isInBackOffSinceUpdate(key: string, now: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    return now - e.lastUpdate < e.delayMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops entries not touched for 2 × max. */
  gc(now: number): void {
    for (const [k, e] of this.entries) if (now - e.lastUpdate > 2 * this.maxMs) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The delay before the next retry of one loop (client-go wait.Backoff with Factor 2): starts at
 * `initialMs`, doubles up to `maxMs`, optionally jittered by ±`jitter` (0.2 → 0.8–1.2×);
 * `reset()` after a success.
 */
export class RetryDelay {
  private current: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;

  constructor(initialMs: number, maxMs: number, jitter = 0) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.jitter = jitter;
    this.current = initialMs;
  }

  /** The delay to wait now (what a log line reports); the following one doubles. */
  next(): number {
    const d = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return this.jitter > 0 ? d * (1 - this.jitter + Math.random() * 2 * this.jitter) : d;
  }

  /** The delay `next()` will return (before jitter). */
  peek(): number {
    return this.current;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}
