/**
 * PURE: admission of critical pods (upstream pkg/kubelet/preemption/preemption.go, v1.37.2).
 * A critical pod (static, mirror, or priority ≥ 2000000000) that only lacks resources is not
 * rejected: the kubelet preempts running pods to make room — lower QoS classes first, and within
 * a class the pods whose requests best cover what is missing (getPodsToPreemptByDistance).
 */

import { isCriticalPod } from '../api/pod.js';
import { podQOSClass } from '../api/qos.js';
import type { Pod } from '../api/types.js';
import {
  type AdmissionNode,
  type AdmissionRequirement,
  type AdmitResult,
  admitPod,
  insufficientResources,
  podRequests,
} from './admission.js';

/** upstream events.PreemptContainer and the message preempted pods get. */
export const PREEMPT_REASON = 'Preempting';
export const PREEMPT_MESSAGE = 'Preempted in order to admit critical pod';
export const PREEMPT_CONDITION_MESSAGE = 'Pod was preempted by Kubelet to accommodate a critical pod.';

export type CriticalAdmitResult =
  | { admit: true; preempt: Pod[] }
  | { admit: false; reason: string; message: string };

/** resource.GetResourceRequest: 1 for "pods", else the pod's effective request. */
function request(pod: Pod, name: AdmissionRequirement['resourceName']): number {
  if (name === 'pods') return 1;
  const r = podRequests(pod);
  return name === 'cpu' ? r.cpu : name === 'memory' ? r.memory : r.ephemeral;
}

function subtract(reqs: AdmissionRequirement[], pods: Pod[]): AdmissionRequirement[] {
  const out: AdmissionRequirement[] = [];
  for (const req of reqs) {
    let q = req.quantity;
    for (const p of pods) {
      q -= request(p, req.resourceName);
      if (q <= 0) break;
    }
    if (q > 0) out.push({ resourceName: req.resourceName, quantity: q });
  }
  return out;
}

function distance(reqs: AdmissionRequirement[], pod: Pod): number {
  let d = 0;
  for (const req of reqs) {
    const remaining = req.quantity - request(pod, req.resourceName);
    if (remaining > 0) d += (remaining / req.quantity) ** 2;
  }
  return d;
}

function smallerResourceRequest(a: Pod, b: Pod): boolean {
  for (const res of ['memory', 'cpu'] as const) {
    const ra = request(a, res);
    const rb = request(b, res);
    if (ra < rb) return true;
    if (ra > rb) return false;
  }
  return true;
}

const describe = (reqs: AdmissionRequirement[]) =>
  `[${reqs.map((r) => `(res: ${r.resourceName}, q: ${r.quantity}), `).join('')}]`;

class PreemptionError extends Error {}

function byDistance(candidates: Pod[], requirements: AdmissionRequirement[]): Pod[] {
  const pods = [...candidates];
  const evict: Pod[] = [];
  let reqs = requirements;
  while (reqs.length > 0) {
    if (pods.length === 0)
      throw new PreemptionError(`no set of running pods found to reclaim resources: ${describe(reqs)}`);
    let best = 0;
    let bestDistance = reqs.length + 1;
    pods.forEach((p, i) => {
      const d = distance(reqs, p);
      if (d < bestDistance || (d === bestDistance && smallerResourceRequest(p, pods[best] as Pod))) {
        bestDistance = d;
        best = i;
      }
    });
    const chosen = pods[best] as Pod;
    reqs = subtract(reqs, [chosen]);
    evict.push(chosen);
    pods[best] = pods[pods.length - 1] as Pod;
    pods.pop();
  }
  return evict;
}

/** upstream kubetypes.Preemptable. */
function preemptable(preemptor: Pod, preemptee: Pod): boolean {
  if (isCriticalPod(preemptor) && !isCriticalPod(preemptee)) return true;
  const a = preemptor.spec?.priority;
  const b = preemptee.spec?.priority;
  return a !== undefined && a !== null && b !== undefined && b !== null && a > b;
}

/** upstream getPodsToPreempt; throws PreemptionError when no set of pods frees enough. */
export function podsToPreempt(pod: Pod, active: Pod[], requirements: AdmissionRequirement[]): Pod[] {
  const candidates = active.filter((p) => preemptable(pod, p));
  const be = candidates.filter((p) => podQOSClass(p) === 'BestEffort');
  const bu = candidates.filter((p) => podQOSClass(p) === 'Burstable');
  const gu = candidates.filter((p) => podQOSClass(p) === 'Guaranteed');
  const unable = subtract(requirements, [...be, ...bu, ...gu]);
  if (unable.length > 0)
    throw new PreemptionError(`no set of running pods found to reclaim resources: ${describe(unable)}`);
  const guaranteed = byDistance(gu, subtract(requirements, [...be, ...bu]));
  const burstable = byDistance(bu, subtract(requirements, [...be, ...guaranteed]));
  const bestEffort = byDistance(be, subtract(requirements, [...burstable, ...guaranteed]));
  return [...bestEffort, ...burstable, ...guaranteed];
}

/**
 * admitPod plus upstream's CriticalPodAdmissionHandler: a critical pod failing admission only
 * for lack of resources is admitted together with the pods to preempt for it.
 */
export function admitWithPreemption(pod: Pod, active: Pod[], node: AdmissionNode): CriticalAdmitResult {
  const verdict: AdmitResult = admitPod(pod, active, node);
  if (verdict.admit) return { admit: true, preempt: [] };
  const lacking =
    isCriticalPod(pod) && verdict.reason.startsWith('OutOf') ? insufficientResources(pod, active, node) : [];
  if (lacking.length === 0) return verdict;
  try {
    return { admit: true, preempt: podsToPreempt(pod, active, lacking) };
  } catch (err) {
    if (!(err instanceof PreemptionError)) throw err;
    return {
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message: `Unexpected error while attempting to recover from admission failure: preemption: error finding a set of pods to preempt: ${err.message}`,
    };
  }
}
