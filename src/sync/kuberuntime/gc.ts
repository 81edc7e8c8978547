import type { Pod } from '../../api/types.js';
import { isCriNotFound, runtimeErrorMessage } from '../../cri/errors.js';
import type { PodRuntimeStatus } from '../../cri/runtimeState.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { SyncerDeps } from './types.js';

/** Removing dead containers and sandboxes (upstream kuberuntime_gc.go and pruneInitContainersBeforeStart). */
export class ContainerGC {
  private readonly d: Pick<SyncerDeps, 'cri'>;
  private readonly log: Logger;

  constructor(d: Pick<SyncerDeps, 'cri' | 'logger'>) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
  }

  /** Removes every container and sandbox of a pod (after it terminated). */
  async removePod(rt: PodRuntimeStatus | undefined, signal?: AbortSignal): Promise<void> {
    for (const c of rt?.containers ?? []) {
      await this.d.cri.removeContainer(c.id, { signal }).catch((e) => {
        if (!isCriNotFound(e))
          this.log.warn({ id: c.id, err: runtimeErrorMessage(e) }, 'remove container failed');
      });
    }
    for (const sb of rt?.sandboxes ?? []) {
      await this.d.cri.stopPodSandbox(sb.id, { signal }).catch(() => {});
      await this.d.cri.removePodSandbox(sb.id, { signal }).catch((e) => {
        if (!isCriNotFound(e))
          this.log.warn({ id: sb.id, err: runtimeErrorMessage(e) }, 'remove sandbox failed');
      });
    }
  }

  /** Keeps only the newest exited instance of each init container (upstream pruneInitContainersBeforeStart). */
  async pruneInitContainers(pod: Pod, rt: PodRuntimeStatus | undefined, signal?: AbortSignal): Promise<void> {
    for (const ic of pod.spec?.initContainers ?? []) {
      const exited = (rt?.containers ?? []).filter((c) => c.name === ic.name && c.state === 'exited');
      for (const old of exited.slice(1)) {
        await this.d.cri.removeContainer(old.id, { signal }).catch(() => {});
      }
    }
  }

  /**
   * Removes exited instances of each container beyond the newest `keep` (upstream
   * evictContainers with MaxPerPodContainer); the runtime lists newest first.
   */
  async removeDeadContainers(rt: PodRuntimeStatus, keep: number, signal?: AbortSignal): Promise<void> {
    const byName = new Map<string, number>();
    for (const c of rt.containers) {
      const n = (byName.get(c.name) ?? 0) + 1;
      byName.set(c.name, n);
      if (n > keep && c.state === 'exited')
        await this.d.cri.removeContainer(c.id, { signal }).catch(() => {});
    }
  }
}
