/** A minimal synchronous fan-out of events to subscribers. */
export class EventHub<T> {
  private readonly listeners = new Set<(ev: T) => void>();

  subscribe(fn: (ev: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(ev: T): void {
    for (const fn of [...this.listeners]) fn(ev);
  }

  clear(): void {
    this.listeners.clear();
  }
}
