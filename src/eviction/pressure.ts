import { Listeners } from '../util/listeners.js';
import type { PressureCondition } from './types.js';

export interface PressureFlags {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

/**
 * The node's pressure conditions as the eviction manager last decided them: admission reads
 * them, the node status reports them, and both subscribe to changes. Built before either side,
 * so neither needs the other.
 */
export class NodePressure {
  private current: readonly PressureCondition[] = [];
  private readonly listeners = new Listeners<PressureFlags>();

  set(conditions: readonly PressureCondition[]): void {
    if (conditions.join() === this.current.join()) return;
    this.current = [...conditions];
    this.listeners.emit(this.flags());
  }

  conditions(): readonly PressureCondition[] {
    return this.current;
  }

  flags(): PressureFlags {
    return {
      memory: this.current.includes('MemoryPressure'),
      disk: this.current.includes('DiskPressure'),
      pid: this.current.includes('PIDPressure'),
    };
  }

  subscribe(fn: (flags: PressureFlags) => void): void {
    this.listeners.add(fn);
  }
}
