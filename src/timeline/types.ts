import type { Pod } from '../api/types.js';

/**
 * The vocabulary of a pod's lifecycle timeline (issue 18): what the kubelet did to a pod and
 * when, recorded by narrow observers of the components that act (pod workers, CRI calls, images,
 * volumes, probes, status patches) and read by the kubelet API's /debug/pods endpoints.
 * This room imports only src/util and src/api's types: every room may report into it.
 */

/** Which part of the kubelet a step belongs to (the waterfall's second column). */
export type StepKind =
  | 'watch'
  | 'admission'
  | 'worker'
  | 'plan'
  | 'volume'
  | 'image'
  | 'cri'
  | 'probe'
  | 'status'
  | 'kill'
  | 'event';

/** One step as an observer reports it. */
export interface StepInput {
  kind: StepKind;
  /** What happened, short: "RunPodSandbox", "pull busybox:1.36", "SyncPod", "ADD". */
  step: string;
  /** The container the step is about, if any. */
  container?: string;
  /** 'ok', or the failure's reason ("ErrImagePull", "DeadlineExceeded", gRPC code name). */
  result?: string;
  /** More words: bytes pulled, volume source, the kill's requester, the plan. Never secret values. */
  detail?: string;
}

/** One recorded step. Times are monotonic (performance.now) milliseconds, with the wall time for display. */
export interface TimelineEntry extends StepInput {
  /** Monotonic ms (the kubelet process' performance.now()) when the step began. */
  at: number;
  /** Wall-clock time of `at`, RFC 3339 with milliseconds. */
  time: string;
  /** How long the step took; absent for instants and for steps still in progress. */
  durationMs?: number;
  /** The step has begun and not ended yet (a pull in progress, a hanging CRI call). */
  open?: boolean;
}

/** The end of a step begun with `begin`: call once with the result. */
export type EndStep = (result?: string, detail?: string) => void;

/** Where observers report steps. Never throws, never blocks; unknown pods are ignored. */
export interface TimelineSink {
  /** Names a pod (watch receipt), so it can be found by namespace/name. */
  pod(uid: string, namespace: string, name: string): void;
  /** An instant step (an event, a watch receipt, a verdict). */
  record(uid: string, step: StepInput): void;
  /** A step with a duration: recorded now as open, completed by the returned function. */
  begin(uid: string, step: StepInput): EndStep;
  /** The pod is gone from the node: its records are kept for the retention period, then dropped. */
  gone(uid: string): void;
  /** The watch delivered this copy of the pod (its status too): the pod start SLI is measured here. */
  observed(pod: Pod): void;
}

const noEnd: EndStep = () => {};

/** A sink that records nothing (tests, and a kubelet with the timeline disabled). */
export const noTimeline: TimelineSink = {
  pod() {},
  record() {},
  begin: () => noEnd,
  gone() {},
  observed() {},
};
