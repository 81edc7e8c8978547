/**
 * What the sync loop does for static pods beyond running them (upstream pod_workers.go
 * allowStaticPodStart, Kubelet.handleMirrorPod, HandlePodCleanups' mirror steps):
 * - one pod per full name: a static pod whose manifest changed gets a new UID, and the new UID
 *   starts only after the old one's worker finished terminating;
 * - mirror pods: reconciled when the static pod syncs, when its mirror changes or disappears,
 *   and on every housekeeping pass until they match; orphaned mirror pods are deleted once their
 *   static pod's worker is done.
 */

import { isStaticPod } from '../api/pod.js';
import type { Pod } from '../api/types.js';
import type { MirrorPods } from './mirrorPods.js';
import { podFullName } from './podConfig.js';
import type { WorkerState } from './podWorkers.js';

export interface StaticPodTrackerDeps {
  state: (uid: string) => WorkerState | undefined;
  /** The desired pods (static pods included) and mirror pods, from PodConfig. */
  pods: () => Pod[];
  mirrorPods: () => Pod[];
  /** Starts (or updates) a pod's worker. */
  start: (pod: Pod) => void;
  mirrors?: MirrorPods;
  /** The status manager should write this pod's status again (its mirror pod changed). */
  requeueStatus?: (uid: string) => void;
}

const running = (s: WorkerState | undefined): boolean => s === 'sync' || s === 'terminating';

export class StaticPodTracker {
  /** Static pods waiting for an older UID of the same full name, by full name. */
  private readonly waiting = new Map<string, Pod>();
  /** Full name of every static pod UID that has (or had) a worker. */
  private readonly names = new Map<string, string>();

  constructor(private readonly d: StaticPodTrackerDeps) {}

  /** ADD of a pod: false when it is a static pod that must wait for an older UID (then it is queued). */
  mayStart(pod: Pod): boolean {
    if (!isStaticPod(pod)) return true;
    const uid = pod.metadata?.uid ?? '';
    const name = podFullName(pod);
    for (const [other, n] of this.names) {
      if (n === name && other !== uid && running(this.d.state(other))) {
        this.waiting.set(name, pod);
        return false;
      }
    }
    this.names.set(uid, name);
    if (this.waiting.get(name)?.metadata?.uid === uid) this.waiting.delete(name);
    return true;
  }

  /** REMOVE of a pod: a waiting static pod is dropped. */
  removed(pod: Pod): void {
    const name = podFullName(pod);
    if (this.waiting.get(name)?.metadata?.uid === pod.metadata?.uid) this.waiting.delete(name);
  }

  isWaiting(uid: string): boolean {
    for (const p of this.waiting.values()) if (p.metadata?.uid === uid) return true;
    return false;
  }

  /** After a sync pass of a running static pod. */
  synced(pod: Pod): void {
    if (isStaticPod(pod)) this.d.mirrors?.reconcile(pod);
  }

  /** A mirror pod changed or disappeared (upstream handleMirrorPod): re-check its static pod. */
  mirrorChanged(mirror: Pod): void {
    const name = podFullName(mirror);
    for (const p of this.d.pods()) {
      if (!isStaticPod(p) || podFullName(p) !== name) continue;
      const uid = p.metadata?.uid ?? '';
      if (this.d.state(uid) === 'sync') {
        this.d.mirrors?.reconcile(p, true);
        this.d.requeueStatus?.(uid);
      }
    }
  }

  /**
   * Housekeeping: start waiting pods whose predecessor finished; mirrors; forget old UIDs.
   * Orphaned mirror pods are deleted only once every source delivered (`sourcesReady`), so a
   * mirror is never taken for an orphan before the file source listed its static pod.
   */
  housekeeping(sourcesReady: boolean): void {
    for (const [name, pod] of [...this.waiting]) {
      const blocked = [...this.names].some(
        ([uid, n]) => n === name && uid !== pod.metadata?.uid && running(this.d.state(uid)),
      );
      if (!blocked) {
        this.waiting.delete(name);
        this.names.set(pod.metadata?.uid ?? '', name);
        this.d.start(pod);
      }
    }
    for (const [uid] of [...this.names]) {
      const st = this.d.state(uid);
      if (st === undefined || st === 'finished') {
        if (!this.d.pods().some((p) => p.metadata?.uid === uid)) this.names.delete(uid);
      }
    }
    if (!this.d.mirrors) return;
    const statics = this.d.pods().filter(isStaticPod);
    for (const p of statics) if (this.d.state(p.metadata?.uid ?? '') === 'sync') this.d.mirrors.reconcile(p);
    // A mirror pod stays while a worker of its full name still terminates (upstream
    // IsPodForMirrorPodTerminatingByFullName).
    if (!sourcesReady) return;
    const keep = new Set(statics.map(podFullName));
    for (const [uid, n] of this.names) if (running(this.d.state(uid))) keep.add(n);
    this.d.mirrors.deleteOrphans(keep, this.d.mirrorPods());
  }
}
