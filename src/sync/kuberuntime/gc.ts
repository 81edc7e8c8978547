import type { Pod } from '../../api/types.js';
import { isCriNotFound, runtimeErrorMessage } from '../../cri/errors.js';
import type { PodRuntimeStatus } from '../../cri/runtimeState.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../../cri/runtimeState.js';
import { errorMessage } from '../../util/errors.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { SyncerDeps } from './types.js';

/** Removing dead containers and sandboxes (upstream kuberuntime_gc.go and pruneInitContainersBeforeStart). */
const nanos = (v: unknown) => BigInt(String(v ?? 0));

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

  /**
   * Node-level reclaim for disk pressure (upstream containerGC.DeleteAllUnusedContainers): every
   * exited container of a pod whose runtime may be removed goes; pods still active keep their
   * newest exited instance per container (MaxPerPodContainer 1); not-ready sandboxes without
   * containers go unless they are an active pod's newest. Returns how many objects it removed.
   */
  async deleteAllUnusedContainers(
    podIsActive: (uid: string) => boolean,
    signal?: AbortSignal,
  ): Promise<number> {
    const containers = await this.d.cri.listContainers(undefined, { signal });
    const units = new Map<string, typeof containers>();
    for (const c of containers) {
      if (c.state !== 'CONTAINER_EXITED') continue;
      const key = `${c.labels[LABEL_POD_UID] ?? ''}/${c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? ''}`;
      units.set(key, [...(units.get(key) ?? []), c]);
    }
    let removed = 0;
    for (const [key, unit] of units) {
      const uid = key.slice(0, key.indexOf('/'));
      const newestFirst = [...unit].sort((a, b) => (nanos(b.createdAt) > nanos(a.createdAt) ? 1 : -1));
      const victims = podIsActive(uid) ? newestFirst.slice(1) : newestFirst;
      for (const c of victims) {
        await this.d.cri.removeContainer(c.id, { signal }).then(
          () => removed++,
          (err) => this.log.debug({ id: c.id, err: errorMessage(err) }, 'container GC: remove failed'),
        );
      }
    }
    const left = new Set((await this.d.cri.listContainers(undefined, { signal })).map((c) => c.podSandboxId));
    const sandboxes = await this.d.cri.listPodSandbox(undefined, { signal });
    const newest = new Map<string, string>();
    for (const s of [...sandboxes].sort((a, b) => (nanos(a.createdAt) > nanos(b.createdAt) ? 1 : -1))) {
      newest.set(s.metadata?.uid ?? '', s.id);
    }
    for (const s of sandboxes) {
      if (s.state === 'SANDBOX_READY' || left.has(s.id)) continue;
      const uid = s.metadata?.uid ?? '';
      if (podIsActive(uid) && newest.get(uid) === s.id) continue;
      await this.d.cri.removePodSandbox(s.id, { signal }).then(
        () => removed++,
        (err) => this.log.debug({ id: s.id, err: errorMessage(err) }, 'sandbox GC: remove failed'),
      );
    }
    return removed;
  }
}
