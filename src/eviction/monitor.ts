/**
 * Faster than the 10 s eviction round: watches for memory pressure building and asks the
 * eviction manager for a round at once. Upstream's kernelMemcgNotification (memcg thresholds
 * with eventfd) exists only on cgroup v1, and Node cannot poll(2) a PSI trigger fd for POLLPRI,
 * so this polls cheap files every `pollMs` (200 ms; bench:eviction measured ~0.4 ms CPU per poll,
 * 0.2% of a core) and reacts to:
 *  - threshold: node memory.available (root memory.stat) newly below a memory threshold;
 *  - psi: the memory.pressure 'some' stall total grew by ≥ `psiStallUs` since the last poll;
 *  - memory.events: a watched memory.events changed (high/max/oom/oom_kill counters). These
 *    are also watched with fs.watch: the kernel sends inotify modify events for cgroupfs
 *    'events' files (cgroup_file_notify), so a change arrives without waiting for the poll.
 * PSI files get no inotify events, hence the poll.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { onAbort } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { parsePressure } from './signals.js';
import { thresholdQuantity } from './thresholds.js';
import type { EvictionThreshold, MemoryStats } from './types.js';

export type TriggerReason = 'threshold' | 'psi' | 'memory.events';

export interface PressureMonitorOptions {
  /** Node memory now (StatsCollector.nodeMemory). */
  nodeMemory?: () => Promise<MemoryStats | undefined>;
  /** The memory.available thresholds (others are left to the regular round). */
  thresholds: readonly EvictionThreshold[];
  /** A PSI file: the root cgroup's memory.pressure, or /proc/pressure/memory. */
  pressureFile?: string;
  /** memory.events files to watch (e.g. the pods cgroup's). */
  eventsFiles?: readonly string[];
  onTrigger: (reason: TriggerReason) => void;
  pollMs?: number;
  /** Stall time (µs) within one poll that counts as pressure; default 10 ms. */
  psiStallUs?: number;
  logger?: Logger;
}

export class PressureMonitor {
  private readonly log: Logger;
  private lastMet = false;
  private lastStall: number | undefined;
  private readonly lastEvents = new Map<string, string>();
  /** Poll rounds done (for benches). */
  polls = 0;

  constructor(private readonly o: PressureMonitorOptions) {
    this.log = o.logger ?? silentLogger;
  }

  /** Whether a memory threshold is met by this reading (observation capacity = available + working set). */
  memoryThresholdMet(m: MemoryStats): boolean {
    const capacity = m.availableBytes + m.workingSetBytes;
    return this.o.thresholds.some(
      (t) => t.signal === 'memory.available' && thresholdQuantity(t.value, capacity) > m.availableBytes,
    );
  }

  /** One poll; exported for tests. */
  async poll(): Promise<TriggerReason[]> {
    this.polls++;
    const fired: TriggerReason[] = [];
    const mem = await this.o.nodeMemory?.().catch(() => undefined);
    if (mem) {
      const met = this.memoryThresholdMet(mem);
      if (met && !this.lastMet) fired.push('threshold');
      this.lastMet = met;
    }
    if (this.o.pressureFile) {
      const text = await readFile(this.o.pressureFile, 'utf8').catch(() => undefined);
      const total = text === undefined ? undefined : parsePressure(text).some?.total;
      if (total !== undefined) {
        if (this.lastStall !== undefined && total - this.lastStall >= (this.o.psiStallUs ?? 10_000)) {
          fired.push('psi');
        }
        this.lastStall = total;
      }
    }
    for (const f of this.o.eventsFiles ?? []) {
      if (await this.eventsChanged(f)) {
        fired.push('memory.events');
        break;
      }
    }
    for (const r of fired) this.o.onTrigger(r);
    return fired;
  }

  private async eventsChanged(file: string): Promise<boolean> {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return false;
    const prev = this.lastEvents.get(file);
    this.lastEvents.set(file, text);
    return prev !== undefined && prev !== text;
  }

  /** Polls until `signal` aborts; watches the events files meanwhile. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const watchers: FSWatcher[] = [];
    for (const f of this.o.eventsFiles ?? []) {
      try {
        const w = watch(f, { persistent: false }, () => {
          void this.eventsChanged(f).then((changed) => changed && this.o.onTrigger('memory.events'));
        });
        w.on('error', () => w.close());
        watchers.push(w);
      } catch (err) {
        this.log.debug({ file: f, err: String(err) }, 'pressure monitor: cannot watch');
      }
    }
    const period = this.o.pollMs ?? 200;
    try {
      while (!signal.aborted) {
        await this.poll().catch((err) =>
          this.log.debug({ err: String(err) }, 'pressure monitor: poll failed'),
        );
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            detach();
            resolve();
          }, period);
          const detach = onAbort(signal, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    } finally {
      for (const w of watchers) w.close();
    }
  }
}
