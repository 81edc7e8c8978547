/**
 * Subscribers to one kind of notification. A component that others react to exposes
 * `subscribe`, so the composition root wires reactions after building both sides (no forward
 * references, no callbacks fixed at construction). A throwing listener is reported, not fatal.
 */
export class Listeners<T> {
  private readonly fns: ((v: T) => void)[] = [];
  private readonly onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void = () => {}) {
    this.onError = onError;
  }

  add(fn: (v: T) => void): void {
    this.fns.push(fn);
  }

  emit(v: T): void {
    for (const fn of this.fns) {
      try {
        fn(v);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
