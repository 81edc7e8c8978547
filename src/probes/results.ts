import type { ProbeResult, ProbeType } from './types.js';

export interface ResultUpdate {
  type: ProbeType;
  containerId: string;
  podUid: string;
  result: ProbeResult;
}

/**
 * The latest result of one probe type per container ID (upstream prober/results.Manager).
 * `onUpdate` is called only when a container's result changes (or is first set).
 */
export class ResultsCache {
  private readonly results = new Map<string, ProbeResult>();

  constructor(
    readonly type: ProbeType,
    private readonly onUpdate: (u: ResultUpdate) => void,
  ) {}

  get(containerId: string): ProbeResult | undefined {
    return this.results.get(containerId);
  }

  set(containerId: string, result: ProbeResult, podUid: string): void {
    if (this.results.get(containerId) === result) return;
    this.results.set(containerId, result);
    this.onUpdate({ type: this.type, containerId, podUid, result });
  }

  remove(containerId: string): void {
    this.results.delete(containerId);
  }

  get size(): number {
    return this.results.size;
  }
}
