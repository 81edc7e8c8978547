import { podQOSClass } from '../api/qos.js';
import type { Pod } from '../api/types.js';
import type { PodTimeline, TimelineStore } from '../timeline/store.js';
import { type AdmissionNode, admitPod } from './admission.js';
import { type Explanation, explainPod, explainRejection } from './explain.js';
import { crashBackoffKey } from './kuberuntime/container.js';
import type { PodSyncer } from './kuberuntime/manager.js';
import { computePodActions, type ProbeResult } from './plan.js';
import { summarizeActions } from './planReasons.js';
import type { SyncLoop } from './syncLoop.js';

export interface PodDebugDeps {
  syncLoop: SyncLoop;
  syncer: PodSyncer;
  probes: {
    liveness(id: string): ProbeResult | undefined;
    startup(id: string): ProbeResult | undefined;
  };
  timeline: TimelineStore;
  admissionNode: () => AdmissionNode;
  now?: () => number;
}

/** What the dry run of a pod spec says (POST /debug/pods/{ns}/{name}/explain). */
export interface DryRun {
  pod: string;
  admission: string;
  qosClass: string;
  cgroupParent?: string;
  /** What the first sync would do, each with its rule. */
  actions: string;
  reasons: Record<string, string>;
  /** The CRI PodSandboxConfig the kubelet would send (or why it cannot be built). */
  sandboxConfig: unknown;
}

/**
 * The kubelet API's /debug/pods view of the sync core (issue 18): each pod's timeline and the
 * explain of what its worker would do next, gathered from the pod config, the worker states, the
 * runtime cache, the probe results and the back-off state. Reads only; never acts.
 */
export class PodDebug {
  private readonly now: () => number;
  constructor(private readonly d: PodDebugDeps) {
    this.now = d.now ?? Date.now;
  }

  private find(namespace: string, name: string): Pod | undefined {
    const all = this.d.syncLoop.podConfig
      .all()
      .filter((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
    return all.sort((a, b) =>
      (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''),
    )[0];
  }

  timeline(namespace: string, name: string): PodTimeline | undefined {
    return this.d.timeline.find(namespace, name);
  }

  explain(namespace: string, name: string): Explanation | undefined {
    const pod = this.find(namespace, name);
    if (!pod) {
      const t = this.d.timeline.find(namespace, name);
      if (!t) return undefined;
      return {
        pod: `${namespace}/${name}`,
        uid: t.uid,
        state: 'gone',
        summary: `the pod is gone from this node${t.goneAt ? ` since ${t.goneAt}` : ''}; its timeline is kept for a while`,
        actions: [],
        waiting: [],
        containers: {},
      };
    }
    const uid = pod.metadata?.uid ?? '';
    const { syncLoop, syncer } = this.d;
    return explainPod({
      pod,
      now: this.now(),
      monoNow: this.d.timeline.now(),
      worker: syncLoop.workers.state(uid),
      rejection: syncLoop.lifecycle.rejection(uid),
      runtime: syncLoop.runtimeCache.get(uid),
      liveness: this.d.probes.liveness,
      startup: this.d.probes.startup,
      crashBackoff: syncer.crashBackoff,
      backoffKey: crashBackoffKey,
      startFailures: syncer.startFailures(uid),
      timeline: this.d.timeline.get(uid)?.entries ?? [],
    });
  }

  /** What would happen if `pod` were bound here now: admission, QoS, cgroup, the first plan, the sandbox config. */
  dryRun(pod: Pod): DryRun {
    const uid = pod.metadata?.uid || 'dry-run';
    const p: Pod = { ...pod, metadata: { namespace: 'default', ...pod.metadata, uid } };
    const active = this.d.syncLoop.activePods().filter((x) => x.metadata?.uid !== uid);
    const verdict = admitPod(p, active, this.d.admissionNode());
    const actions = computePodActions({
      pod: p,
      runtime: undefined,
      liveness: () => undefined,
      startup: () => undefined,
    });
    let sandboxConfig: unknown;
    try {
      sandboxConfig = this.d.syncer.sandboxConfig(p, 0).config;
    } catch (err) {
      sandboxConfig = { error: err instanceof Error ? err.message : String(err) };
    }
    const config = sandboxConfig as { linux?: { cgroupParent?: string } } | undefined;
    return {
      pod: `${p.metadata?.namespace}/${p.metadata?.name}`,
      admission: verdict.admit ? 'admitted' : explainRejection(verdict),
      qosClass: podQOSClass(p),
      ...(config?.linux?.cgroupParent ? { cgroupParent: config.linux.cgroupParent } : {}),
      actions: summarizeActions(actions),
      reasons: {
        ...(actions.reasons.sandbox ? { sandbox: actions.reasons.sandbox } : {}),
        ...actions.reasons.start,
      },
      sandboxConfig,
    };
  }
}
