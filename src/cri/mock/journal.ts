import type { CriMethod, CriRequest } from './methods.js';

export interface JournalEntry {
  readonly method: CriMethod;
  readonly request: unknown;
  /** Date.now() when the call arrived. */
  readonly at: number;
  /** The gRPC status the call ended with (0 = OK); undefined while in flight. */
  code?: number;
}

/** A bounded record of the calls the mock received, oldest first. */
export class Journal {
  private readonly items: JournalEntry[] = [];
  readonly limit: number;

  constructor(limit = 1_000) {
    this.limit = limit;
  }

  get entries(): readonly JournalEntry[] {
    return this.items;
  }

  record(method: CriMethod, request: unknown): JournalEntry {
    const entry: JournalEntry = { method, request, at: Date.now() };
    this.items.push(entry);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
    return entry;
  }

  /** The requests of every recorded call of `method`, oldest first. */
  calls<M extends CriMethod>(method: M): CriRequest<M>[] {
    return this.items.filter((e) => e.method === method).map((e) => e.request as CriRequest<M>);
  }

  clear(): void {
    this.items.length = 0;
  }
}
