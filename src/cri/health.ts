import { sleep } from '../util/abort.js';
import { Listeners } from '../util/listeners.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { CriClient } from './client.js';

export interface RuntimeHealthState {
  /** The runtime answered Status recently and said RuntimeReady. */
  runtimeReady: boolean;
  networkReady: boolean;
  /** Upstream's wording when not ready: "container runtime is down", "container runtime not ready: ...". */
  runtimeMessage: string;
  networkMessage: string;
  /** "containerd://1.6.20~ds1" once known. */
  version: string;
  runtimeName: string;
}

/**
 * Polls the runtime's Status every 5 s (upstream updateRuntimeUp) and reports readiness in the
 * Node's wording. `onChange` fires when readiness flips, so the node status goes out at once.
 */
export class RuntimeHealth {
  private state: RuntimeHealthState = {
    runtimeReady: false,
    networkReady: false,
    runtimeMessage: 'container runtime status check may not have completed yet',
    networkMessage: '',
    version: '',
    runtimeName: '',
  };
  private lastOk = 0;
  private readonly log: Logger;
  private readonly listeners = new Listeners<RuntimeHealthState>();

  constructor(
    private readonly cri: CriClient,
    private readonly opts: {
      periodMs?: number;
      downAfterMs?: number;
      logger?: Logger;
      onChange?: () => void;
    } = {},
  ) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Calls `fn` when runtime or network readiness flips (so the node status goes out at once). */
  subscribe(fn: (state: RuntimeHealthState) => void): void {
    this.listeners.add(fn);
  }

  get current(): RuntimeHealthState {
    return this.state;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.check(signal);
      await sleep(this.opts.periodMs ?? 5_000, signal).catch(() => {});
    }
  }

  async check(signal?: AbortSignal): Promise<RuntimeHealthState> {
    const before = this.state;
    const next: RuntimeHealthState = { ...before };
    try {
      if (!next.version) {
        const v = await this.cri.version({ signal, timeoutMs: 5_000 });
        next.runtimeName = v.runtimeName;
        next.version = `${v.runtimeName}://${v.runtimeVersion}`;
      }
      const st = await this.cri.status(false, { signal, timeoutMs: 5_000 });
      const conds = st.status?.conditions ?? [];
      const rt = conds.find((c) => c.type === 'RuntimeReady');
      const net = conds.find((c) => c.type === 'NetworkReady');
      next.runtimeReady = rt?.status === true;
      next.runtimeMessage = next.runtimeReady
        ? ''
        : `container runtime not ready: RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}`;
      next.networkReady = net?.status === true;
      next.networkMessage = next.networkReady
        ? ''
        : `container runtime network not ready: NetworkReady=false reason:${net?.reason ?? ''} message:${net?.message ?? ''}`;
      this.lastOk = Date.now();
    } catch (err) {
      if (Date.now() - this.lastOk > (this.opts.downAfterMs ?? 30_000) || this.lastOk === 0) {
        next.runtimeReady = false;
        next.runtimeMessage = 'container runtime is down';
      }
      this.log.warn({ err: String(err) }, 'container runtime status check failed');
    }
    this.state = next;
    if (before.runtimeReady !== next.runtimeReady || before.networkReady !== next.networkReady) {
      this.opts.onChange?.();
      this.listeners.emit(next);
    }
    return next;
  }
}

/**
 * PURE: the node's runtime readiness (upstream runtimeState: runtime, network and PLEG health),
 * as the Ready condition and /healthz report it.
 */
export function nodeRuntimeHealth(
  h: Pick<RuntimeHealthState, 'runtimeReady' | 'networkReady' | 'runtimeMessage' | 'networkMessage'>,
  pleg: { ok: boolean; message: string },
): { ready: boolean; message: string } {
  const bad = [
    h.runtimeReady ? '' : h.runtimeMessage,
    h.networkReady ? '' : h.networkMessage,
    pleg.ok ? '' : `PLEG is not healthy: ${pleg.message}`,
  ].filter(Boolean);
  return { ready: bad.length === 0, message: bad.join(', ') };
}
