import { isPodTerminal, isStaticPod, podRef } from '../api/pod.js';
import type { Pod } from '../api/types.js';
import { needToReconcilePodReadiness } from '../status/conditions.js';
import { rejectedPodStatus } from '../status/generate.js';
import type { StatusManager } from '../status/manager.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { AdmissionNode } from './admission.js';
import { podDesc } from './criConfig.js';
import type { EventSink } from './events.js';
import type { PodConfig, PodOp } from './podConfig.js';
import type { PodSyncHandlers } from './podSync.js';
import type { KillRequest, PodWorkers } from './podWorkers.js';
import {
  admitWithPreemption,
  PREEMPT_CONDITION_MESSAGE,
  PREEMPT_MESSAGE,
  PREEMPT_REASON,
} from './preemption.js';
import type { StaticPodTracker } from './staticPodTracker.js';

export interface PodLifecycleDeps {
  podConfig: PodConfig;
  workers: PodWorkers;
  handlers: PodSyncHandlers;
  statusManager: StatusManager;
  events: EventSink;
  admissionNode: () => AdmissionNode;
  /** One static pod per full name; the new UID of an edited manifest waits for the old one. */
  staticPods?: StaticPodTracker;
  logger?: Logger;
}

/**
 * Which pods run here and how they end: admission of new pods, updates to their workers, the
 * active set (what admission and eviction count), and kills the kubelet decides itself
 * (eviction, preemption, deadlines). Upstream: Kubelet.HandlePod*, GetActivePods, killPodNow.
 */
export class PodLifecycle {
  private readonly rejected = new Set<string>();
  private readonly d: PodLifecycleDeps;
  private readonly log: Logger;

  constructor(d: PodLifecycleDeps) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
  }

  /** Asks for a sync of a pod (probe result changes). */
  syncSoon(uid: string): void {
    this.d.workers.syncSoon(uid);
  }

  /** Kills a pod with a status override (eviction, preemption). */
  killPod(uid: string, kill: KillRequest): void {
    const pod = this.d.podConfig.get(uid);
    if (!pod) return;
    if (kill.status) this.d.handlers.setOverride(uid, kill.status);
    this.d.workers.update(uid, { pod, kill });
  }

  /** Preempts a pod to admit a critical one (upstream CriticalPodAdmissionHandler). */
  private preempt(victim: Pod, admitting: Pod): void {
    this.d.events.event(podRef(victim), 'Warning', PREEMPT_REASON, PREEMPT_MESSAGE);
    this.log.info(
      { pod: podDesc(victim), requestingPod: podDesc(admitting) },
      'Preempting pod to free up resources',
    );
    this.killPod(victim.metadata?.uid ?? '', {
      status: {
        reason: PREEMPT_REASON,
        message: PREEMPT_MESSAGE,
        disruptionTarget: true,
        conditionMessage: PREEMPT_CONDITION_MESSAGE,
      },
    });
  }

  /** Pods that are admitted and not finished (for admission and eviction). */
  activePods(): Pod[] {
    return this.d.podConfig.all().filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (this.rejected.has(uid)) return false;
      const st = this.d.workers.state(uid);
      return st === 'sync' || st === 'terminating' || (st === undefined && !isPodTerminal(p));
    });
  }

  /** A change from the pod config (upstream HandlePodAdditions/Updates/Removes/Reconcile). */
  handle(op: PodOp, pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    switch (op) {
      case 'ADD': {
        if (
          this.d.workers.state(uid) === undefined &&
          !isPodTerminal(pod) &&
          !pod.metadata?.deletionTimestamp
        ) {
          const verdict = admitWithPreemption(
            pod,
            this.activePods().filter((p) => p.metadata?.uid !== uid),
            this.d.admissionNode(),
          );
          if (!verdict.admit) {
            this.rejected.add(uid);
            this.d.events.event(podRef(pod), 'Warning', verdict.reason, verdict.message);
            this.d.statusManager.setPodStatus(pod, rejectedPodStatus(pod, verdict.reason, verdict.message));
            this.log.info({ pod: podDesc(pod), reason: verdict.reason }, 'pod rejected by admission');
            return;
          }
          for (const victim of verdict.preempt) this.preempt(victim, pod);
        }
        if (this.rejected.has(uid) || this.d.staticPods?.mayStart(pod) === false) return;
        this.d.workers.update(uid, { pod });
        return;
      }
      case 'UPDATE':
      case 'DELETE':
        if (this.rejected.has(uid)) {
          if (pod.metadata?.deletionTimestamp) this.d.statusManager.terminatePod(pod);
          return;
        }
        if (this.d.staticPods?.isWaiting(uid)) return;
        this.d.workers.update(uid, { pod });
        return;
      case 'RECONCILE':
        // Upstream HandlePodReconcile: only a readiness-gate change needs a sync now.
        if (this.rejected.has(uid) || this.d.workers.state(uid) === undefined) return;
        if (needToReconcilePodReadiness(pod)) this.d.workers.update(uid, { pod });
        return;
      case 'REMOVE':
        this.rejected.delete(uid);
        this.d.staticPods?.removed(pod);
        if (this.d.workers.state(uid) === undefined) return;
        // An API pod is gone after its graceful deletion; a static pod whose manifest went away
        // gets its own grace period (upstream deletePod: a kill without override).
        this.d.workers.update(uid, { pod, kill: isStaticPod(pod) ? {} : { graceSeconds: 1 } });
        return;
    }
  }
}
