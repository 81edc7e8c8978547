import type { CriClient } from './client.js';
import { inspectPod } from './inspect.js';
import type { PodRuntimeStatus } from './runtimeState.js';

/** Where the runtime cache learns which pods the runtime holds (the PLEG's last relist). */
export interface RuntimePodIndex {
  readonly hasRelisted: boolean;
  runtimePods(): ReadonlyMap<string, unknown>;
}

/**
 * The runtime's last known view of each pod (upstream kubecontainer.Cache): what a pod worker
 * reads and refreshes, what housekeeping reads to find dead containers. Entries are dropped with
 * the pod.
 */
export class RuntimeCache {
  private readonly entries = new Map<string, PodRuntimeStatus>();
  private readonly cri: CriClient;
  private readonly index: RuntimePodIndex;

  constructor(cri: CriClient, index: RuntimePodIndex) {
    this.cri = cri;
    this.index = index;
  }

  get(uid: string): PodRuntimeStatus | undefined {
    return this.entries.get(uid);
  }

  /** Inspects the pod in the runtime now (upstream GetPodStatus) and caches the result. */
  async refresh(uid: string, signal?: AbortSignal): Promise<PodRuntimeStatus> {
    const rt = await inspectPod(this.cri, uid, this.entries.get(uid), signal);
    this.entries.set(uid, rt);
    return rt;
  }

  /**
   * True when the runtime certainly has nothing of this pod: the PLEG relisted the runtime and
   * saw none of it, and nothing was created for it since (what is created is refreshed and
   * cached). A new pod then gets its first status and its sandbox without two CRI list calls that
   * queue behind other pods' work.
   */
  knownAbsent(uid: string): boolean {
    return this.index.hasRelisted && !this.entries.has(uid) && !this.index.runtimePods().has(uid);
  }

  delete(uid: string): void {
    this.entries.delete(uid);
  }

  uids(): IterableIterator<string> {
    return this.entries.keys();
  }
}
