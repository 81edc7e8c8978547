/**
 * The kubelet's cgroup v2 hierarchy (upstream containerManager's node allocatable cgroup,
 * qosContainerManager and podContainerManager): kubepods (node allocatable limits) with
 * burstable and besteffort below it, and one pod<uid> cgroup per pod under its QoS class's
 * cgroup, created before the pod's sandbox so the runtime places the containers inside it.
 *
 * Values come from values.ts (pure); this class only decides when to write them. A restarted
 * kubelet adopts what exists: existing cgroups are updated in place, never recreated, and pod
 * cgroups are removed only once their pods are known to be gone (housekeeping).
 */
import type { Pod } from '../api/types.js';
import { sleep } from '../util/abort.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { CgroupFs } from './cgroupfs.js';
import {
  type CgroupDriver,
  type CgroupName,
  cgroupPath,
  nodeAllocatableCgroup,
  podCgroupName,
  podUidFromCgroupDir,
  type QOSClass,
  qosCgroupNames,
  systemdUnit,
} from './names.js';
import type { SystemdUnits } from './systemd.js';
import {
  cgroupV2Files,
  type NodeCapacity,
  nodeAllocatableConfig,
  qosCgroupConfigs,
  type Reservation,
  type ResourceConfig,
  resourceConfigForPod,
  systemdProperties,
} from './values.js';

/** Upstream periodicQOSCgroupUpdateInterval. */
export const QOS_UPDATE_INTERVAL_MS = 60_000;

export interface CgroupManagerOptions {
  fs: CgroupFs;
  driver: CgroupDriver;
  /** false: the manager does nothing and pods get cgroup_parent ''. */
  cgroupsPerQOS: boolean;
  /** cgroupRoot ('' or '/' = the root of the hierarchy). */
  cgroupRoot: string;
  cpuCFSQuota: boolean;
  cpuCFSQuotaPeriodMs?: number;
  /** podPidsLimit; ≤ 0 = none. */
  podPidsLimit: number;
  capacity: NodeCapacity;
  kubeReserved: Reservation;
  systemReserved: Reservation;
  enforceNodeAllocatable: readonly string[];
  /** The pod's QoS class (status.qosClass, else computed). */
  qosOf: (pod: Pod) => QOSClass;
  /** Admitted, not yet finished pods (for the burstable cgroup's cpu weight). */
  activePods?: () => readonly Pod[];
  /** Controllers to enable along created paths; default: the root's cgroup.controllers (as runc does). */
  controllers?: readonly string[];
  /** systemd driver: how to tell systemd about the slices; undefined = write cgroupfs only. */
  systemd?: SystemdUnits;
  /** Node events (NodeAllocatableEnforced / FailedNodeAllocatableEnforcement). */
  onNodeEvent?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  logger?: Logger;
  qosUpdateIntervalMs?: number;
}

export interface PodCgroup {
  uid: string;
  name: CgroupName;
  /** The driver's path below the cgroup mount. */
  path: string;
}

export class CgroupManager {
  private readonly log: Logger;
  private controllers: readonly string[] = [];
  /** Last config handed to systemd per path, so systemctl runs only on a change. */
  private readonly systemdApplied = new Map<string, string>();
  private systemdWarned = false;
  private activePodsFn: () => readonly Pod[];

  constructor(private readonly o: CgroupManagerOptions) {
    this.log = o.logger ?? silentLogger;
    this.activePodsFn = o.activePods ?? (() => []);
  }

  get enabled(): boolean {
    return this.o.cgroupsPerQOS;
  }

  get driver(): CgroupDriver {
    return this.o.driver;
  }

  /** Late wiring: the sync loop exists only after the manager. */
  setActivePods(fn: () => readonly Pod[]): void {
    this.activePodsFn = fn;
  }

  /** kubepods as a driver path ('/kubepods' or '/kubepods.slice'); '' when disabled. */
  nodeAllocatablePath(): string {
    return this.enabled ? cgroupPath(nodeAllocatableCgroup(this.o.cgroupRoot), this.o.driver) : '';
  }

  /** The QoS level cgroups as driver paths. */
  qosPaths(): { guaranteed: string; burstable: string; besteffort: string } {
    const q = qosCgroupNames(this.o.cgroupRoot);
    return {
      guaranteed: cgroupPath(q.guaranteed, this.o.driver),
      burstable: cgroupPath(q.burstable, this.o.driver),
      besteffort: cgroupPath(q.besteffort, this.o.driver),
    };
  }

  /** The pod's cgroup as a driver path (its place even when cgroupsPerQOS is off). */
  podCgroupPath(pod: Pod): string {
    return cgroupPath(
      podCgroupName(this.o.cgroupRoot, this.o.qosOf(pod), pod.metadata?.uid ?? ''),
      this.o.driver,
    );
  }

  /**
   * LinuxPodSandboxConfig.cgroup_parent for a pod (upstream GetPodCgroupParent): the driver path,
   * e.g. /kubepods/burstable/pod<uid> or
   * /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice; '' when off.
   */
  podCgroupParent(pod: Pod): string {
    return this.enabled ? this.podCgroupPath(pod) : '';
  }

  /** What the pod's cgroup gets (upstream ResourceConfigForPod + podPidsLimit). */
  podConfig(pod: Pod): ResourceConfig {
    return resourceConfigForPod(pod, this.o.qosOf(pod), {
      enforceCpuLimits: this.o.cpuCFSQuota,
      cpuPeriodUs: (this.o.cpuCFSQuotaPeriodMs ?? 100) * 1000,
      podPidsLimit: this.o.podPidsLimit,
    });
  }

  /** What kubepods gets (upstream enforceNodeAllocatableCgroups). */
  nodeAllocatableConfig(): ResourceConfig {
    return nodeAllocatableConfig(
      this.o.capacity,
      [this.o.kubeReserved, this.o.systemReserved],
      this.o.enforceNodeAllocatable.includes('pods'),
    );
  }

  /**
   * Startup (upstream setupNode + qosContainerManager.Start): checks the cgroup root, creates or
   * adopts kubepods with its node allocatable limits, then burstable and besteffort.
   */
  async start(): Promise<void> {
    if (!this.enabled) return;
    this.controllers = this.o.controllers ?? (await this.o.fs.controllers('/'));
    const rootPath = cgroupPath(nodeAllocatableCgroup(this.o.cgroupRoot).slice(0, -1), 'cgroupfs');
    if (!(await this.o.fs.exists(rootPath))) {
      throw new Error(
        `invalid configuration: cgroup-root ${JSON.stringify(this.o.cgroupRoot)} doesn't exist`,
      );
    }
    await this.enforceNodeAllocatable();
    await this.updateQOSCgroups();
  }

  /** Writes kubepods' limits; emits NodeAllocatableEnforced or FailedNodeAllocatableEnforcement. */
  async enforceNodeAllocatable(): Promise<void> {
    const name = nodeAllocatableCgroup(this.o.cgroupRoot);
    try {
      await this.apply(name, this.nodeAllocatableConfig());
      this.o.onNodeEvent?.('Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
    } catch (err) {
      const msg = `Failed to update Node Allocatable Limits ${JSON.stringify(toText(name))}: ${errorMessage(err)}`;
      this.o.onNodeEvent?.('Warning', 'FailedNodeAllocatableEnforcement', msg);
      throw err;
    }
  }

  /** Upstream UpdateCgroups: burstable's cpu weight from the active Burstable pods, besteffort's minimum. */
  async updateQOSCgroups(): Promise<void> {
    if (!this.enabled) return;
    const q = qosCgroupNames(this.o.cgroupRoot);
    const cfg = qosCgroupConfigs(this.activePodsFn(), this.o.qosOf);
    await this.apply(q.burstable, cfg.burstable);
    await this.apply(q.besteffort, cfg.besteffort);
  }

  /**
   * Before a pod's sandbox (upstream SyncPod: UpdateQOSCgroups + EnsureExists when missing):
   * creates the pod cgroup with its values, or brings the values of an existing one back to
   * what they should be (systemd resets a slice's attributes when it realizes it).
   */
  async ensurePod(pod: Pod): Promise<void> {
    if (!this.enabled) return;
    const name = podCgroupName(this.o.cgroupRoot, this.o.qosOf(pod), pod.metadata?.uid ?? '');
    if (!(await this.o.fs.exists(cgroupPath(name, this.o.driver)))) await this.updateQOSCgroups();
    await this.apply(name, this.podConfig(pod));
  }

  /** After a pod terminated (upstream SyncTerminatedPod): removes its cgroup. */
  async removePod(pod: Pod): Promise<void> {
    if (!this.enabled) return;
    const name = podCgroupName(this.o.cgroupRoot, this.o.qosOf(pod), pod.metadata?.uid ?? '');
    await this.destroy(name);
    await this.updateQOSCgroups().catch((err) =>
      this.log.debug({ err: errorMessage(err) }, 'updating QoS cgroups failed'),
    );
  }

  /** Every pod cgroup below the QoS cgroups (upstream GetAllPodsFromCgroups). */
  async podCgroups(): Promise<PodCgroup[]> {
    if (!this.enabled) return [];
    const out: PodCgroup[] = [];
    const q = qosCgroupNames(this.o.cgroupRoot);
    for (const parent of [q.besteffort, q.burstable, q.guaranteed]) {
      const parentPath = cgroupPath(parent, this.o.driver);
      for (const dir of await this.o.fs.children(parentPath)) {
        const uid = podUidFromCgroupDir(parentPath, dir, this.o.driver);
        if (!uid) continue;
        out.push({ uid, name: [...parent, `pod${uid}`], path: `${parentPath.replace(/\/$/, '')}/${dir}` });
      }
    }
    return out;
  }

  /** pids.current of every pod cgroup, by pod UID (process counts for PID-pressure ranking). */
  async podProcessCounts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const pc of await this.podCgroups()) {
      const n = Number(await this.o.fs.read(pc.path, 'pids.current').catch(() => undefined));
      if (Number.isFinite(n)) out.set(pc.uid, n);
    }
    return out;
  }

  /**
   * Housekeeping (upstream cleanupOrphanedPodCgroups): removes the cgroups of pods that cannot be
   * running any more. Returns the UIDs whose cgroups were removed.
   */
  async cleanupOrphans(possiblyRunning: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const pc of await this.podCgroups()) {
      if (possiblyRunning.has(pc.uid)) continue;
      try {
        if (await this.destroy(pc.name)) removed.push(pc.uid);
      } catch (err) {
        this.log.warn({ uid: pc.uid, err: errorMessage(err) }, 'removing orphaned pod cgroup failed');
      }
    }
    if (removed.length > 0) this.log.info({ uids: removed }, 'removed orphaned pod cgroups');
    return removed;
  }

  /** Re-applies kubepods and the QoS cgroups every minute until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    const period = this.o.qosUpdateIntervalMs ?? QOS_UPDATE_INTERVAL_MS;
    while (!signal.aborted) {
      await sleep(period, signal).catch(() => {});
      if (signal.aborted) break;
      try {
        await this.apply(nodeAllocatableCgroup(this.o.cgroupRoot), this.nodeAllocatableConfig());
        await this.updateQOSCgroups();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'updating QoS cgroups failed');
      }
    }
  }

  private async destroy(name: CgroupName): Promise<boolean> {
    const path = cgroupPath(name, this.o.driver);
    if (this.o.driver === 'systemd' && this.o.systemd) {
      await this.o.systemd.stop(systemdUnit(name)).catch((err) => this.systemdFailed(err));
    }
    this.systemdApplied.delete(path);
    return this.o.fs.remove(path);
  }

  /** Creates (or adopts) a cgroup and writes its values; throws after trying every file. */
  private async apply(name: CgroupName, config: ResourceConfig): Promise<void> {
    const path = cgroupPath(name, this.o.driver);
    let exists = await this.o.fs.exists(path);
    if (this.o.driver === 'systemd' && this.o.systemd) {
      const unit = systemdUnit(name);
      const key = JSON.stringify(config);
      if (this.systemdApplied.get(path) !== key || !exists) {
        try {
          await this.o.systemd.setProperties(unit, systemdProperties(config));
          if (!exists) await this.o.systemd.start(unit);
          this.systemdApplied.set(path, key);
        } catch (err) {
          this.systemdFailed(err);
        }
        exists = await this.o.fs.exists(path);
      }
    }
    if (this.o.driver === 'cgroupfs' || !exists) await this.o.fs.create(path, this.controllers);
    const errors: string[] = [];
    for (const [file, value] of cgroupV2Files(config)) {
      try {
        await this.o.fs.writeIfChanged(path, file, value);
      } catch (err) {
        errors.push(`${file}=${value}: ${errorMessage(err)}`);
      }
    }
    if (errors.length > 0) throw new Error(`failed to set cgroup ${path}: ${errors.join('; ')}`);
  }

  private systemdFailed(err: unknown): void {
    if (!this.systemdWarned) {
      this.systemdWarned = true;
      this.log.warn({ err: errorMessage(err) }, 'systemd refused a slice change; writing cgroupfs directly');
    } else {
      this.log.debug({ err: errorMessage(err) }, 'systemd slice change failed');
    }
  }
}

function toText(name: CgroupName): string {
  return `/${name.join('/')}`;
}
