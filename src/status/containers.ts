import { containerShouldRestart, isSidecar } from '../api/pod.js';
import type { Container, ContainerStatus, Pod } from '../api/types.js';
import { rfc3339 } from '../api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../cri/runtimeState.js';
import { type ContainerState, clone, findCondition } from './podutil.js';

/** The last failed start attempt of a container (upstream reason cache): CrashLoopBackOff, ErrImagePull, ... */
export interface StartFailure {
  reason: string;
  message: string;
}

/** Probe results by runtime container ID; undefined = no result yet (or no probe). */
export interface ProbeView {
  started(containerId: string): boolean | undefined;
  ready(containerId: string): boolean | undefined;
}

export const CONTAINER_CREATING = 'ContainerCreating';
export const POD_INITIALIZING = 'PodInitializing';
export const CONTAINER_STATUS_UNKNOWN = 'ContainerStatusUnknown';
export const MSG_UNKNOWN_WHEN_TERMINATED = 'The container could not be located when the pod was terminated';
export const MSG_UNKNOWN_WHEN_DELETED =
  'The container could not be located when the pod was deleted.  The container used to be Running';
const MSG_INIT_ASSUMED_COMPLETED =
  'Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally';

export interface ConvertInput {
  pod: Pod;
  runtime: PodRuntimeStatus | undefined;
  runtimeName: string;
  startFailures: ReadonlyMap<string, StartFailure>;
  terminationMessages: ReadonlyMap<string, string>;
}

/** All runtime instances, newest first (by creation time). */
function instancesNewestFirst(runtime: PodRuntimeStatus | undefined): ContainerRuntimeStatus[] {
  return [...(runtime?.containers ?? [])].sort((a, b) => b.createdAt - a.createdAt);
}

export function containerID(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

/** Looks a container up in containers, init containers and ephemeral containers (upstream GetContainerSpec). */
export function containerSpec(pod: Pod, name: string): Container | undefined {
  const spec = pod.spec;
  return (
    spec?.containers.find((c) => c.name === name) ??
    spec?.initContainers?.find((c) => c.name === name) ??
    (spec?.ephemeralContainers?.find((c) => c.name === name) as Container | undefined)
  );
}

function specVolumeMounts(c: Container): ContainerStatus['volumeMounts'] {
  if (!c.volumeMounts?.length) return undefined;
  return c.volumeMounts.map((m) => ({
    name: m.name,
    mountPath: m.mountPath,
    ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}),
  }));
}

const RESIZABLE = ['cpu', 'memory'];

/** containerStatuses[].resources: the allocated (spec) values, previous values kept while running. */
function statusResources(spec: Container, running: boolean, id: string, old: ContainerStatus | undefined) {
  const resources = clone(spec.resources ?? {});
  if (!running) return resources;
  const keepOld = old?.state?.running !== undefined && old.containerID === id;
  for (const kind of ['limits', 'requests'] as const) {
    const list = resources[kind];
    if (!list) continue;
    for (const r of RESIZABLE) {
      const prev = keepOld ? old?.resources?.[kind]?.[r] : undefined;
      if (prev !== undefined) list[r] = prev;
    }
  }
  return resources;
}

function runtimeState(
  cs: ContainerRuntimeStatus,
  id: string,
  old: ContainerStatus | undefined,
  terminationMessage: string | undefined,
): { state: ContainerState; restartCount?: number } {
  switch (cs.state) {
    case 'running':
      return { state: { running: { startedAt: rfc3339(cs.startedAt) } } };
    case 'created':
      return { state: { waiting: {} } };
    case 'exited': {
      let message = cs.message;
      if (terminationMessage) message = message ? `${message}: ${terminationMessage}` : terminationMessage;
      return {
        state: {
          terminated: {
            exitCode: cs.exitCode,
            ...(cs.reason ? { reason: cs.reason } : {}),
            ...(message ? { message } : {}),
            startedAt: rfc3339(cs.startedAt),
            finishedAt: rfc3339(cs.finishedAt),
            containerID: id,
          },
        },
      };
    }
    default:
      if (old?.state?.running) {
        // The container ran and vanished: report it as failed rather than never started.
        return {
          state: {
            terminated: {
              exitCode: 137,
              reason: CONTAINER_STATUS_UNKNOWN,
              message: MSG_UNKNOWN_WHEN_TERMINATED,
            },
          },
          restartCount: (old.restartCount ?? 0) + 1,
        };
      }
      return { state: { waiting: {} } };
  }
}

/** Whether the container will be (re)started by the next sync (upstream ShouldContainerBeRestarted). */
export function shouldContainerBeRestarted(
  c: Container,
  pod: Pod,
  newest: ContainerRuntimeStatus | undefined,
): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!newest) return true;
  if (newest.state === 'running') return false;
  if (newest.state === 'unknown' || newest.state === 'created') return true;
  return containerShouldRestart(c, pod.spec ?? { containers: [] }, newest.exitCode);
}

/**
 * API statuses for `containers` (upstream convertToAPIContainerStatuses): a default waiting state,
 * values carried from `previous`, the newest two runtime instances as state / lastState, and the
 * waiting reason of a failed start for containers that will be restarted. Regular containers come
 * back sorted by name, init containers in spec order.
 */
export function convertContainerStatuses(
  input: ConvertInput,
  containers: readonly Container[],
  previous: readonly ContainerStatus[] | undefined,
  hasInitContainers: boolean,
  isInit: boolean,
): ContainerStatus[] {
  const { pod, runtime, runtimeName } = input;
  const olds = new Map((previous ?? []).map((s) => [s.name, s]));
  const statuses = new Map<string, ContainerStatus>();
  const defaultReason = hasInitContainers ? POD_INITIALIZING : CONTAINER_CREATING;
  const all = instancesNewestFirst(runtime);
  const newest = (name: string) => all.find((c) => c.name === name);

  for (const c of containers) {
    const old = olds.get(c.name);
    let status: ContainerStatus = {
      name: c.name,
      state: { waiting: { reason: defaultReason } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: c.image ?? '',
      imageID: '',
    };
    const mounts = specVolumeMounts(c);
    if (mounts) status.volumeMounts = mounts;
    if (old) {
      if (old.state?.terminated) {
        status = clone(old);
      } else {
        status.restartCount = old.restartCount ?? 0;
        status.lastState = clone(old.lastState ?? {});
      }
    }
    statuses.set(c.name, status);
  }

  // A container that used to run and has no runtime record at all: it terminated, exit unknown.
  for (const c of containers) {
    if (newest(c.name)) continue;
    const old = olds.get(c.name);
    if (!old || old.state?.terminated || !old.state?.running) continue;
    const status = statuses.get(c.name);
    if (!status || status.state?.waiting?.reason !== defaultReason || status.lastState?.terminated) continue;
    status.lastState = {
      terminated: { exitCode: 137, reason: CONTAINER_STATUS_UNKNOWN, message: MSG_UNKNOWN_WHEN_DELETED },
    };
    if (!pod.metadata?.deletionTimestamp) status.restartCount = (status.restartCount ?? 0) + 1;
  }

  const seen = new Map<string, number>();
  for (const cs of all) {
    const current = statuses.get(cs.name);
    const count = seen.get(cs.name) ?? 0;
    if (!current || count >= 2) continue;
    const old = olds.get(cs.name);
    const id = containerID(runtimeName, cs.id);
    const { state, restartCount } = runtimeState(cs, id, old, input.terminationMessages.get(cs.id));
    if (count === 0) {
      const status: ContainerStatus = {
        name: cs.name,
        state,
        lastState: {},
        ready: false,
        restartCount: restartCount ?? cs.restartCount,
        image: cs.image || containerSpec(pod, cs.name)?.image || '',
        imageID: cs.imageRef,
        containerID: id,
      };
      if (old?.volumeMounts) status.volumeMounts = clone(old.volumeMounts);
      // ChangeContainerStatusOnKubeletRestart is off: a running container keeps its started flag.
      if (cs.state === 'running' && old?.started !== undefined) status.started = old.started;
      const spec = containerSpec(pod, cs.name);
      if (spec) {
        status.resources = statusResources(spec, cs.state === 'running', id, old);
        if (spec.resources?.requests) status.allocatedResources = clone(spec.resources.requests);
      }
      statuses.set(cs.name, status);
    } else {
      current.lastState = state;
    }
    seen.set(cs.name, count + 1);
  }

  const anyRegularCreated = (pod.spec?.containers ?? []).some((c) => {
    const s = newest(c.name)?.state;
    return s === 'created' || s === 'running' || s === 'exited';
  });
  for (const c of containers) {
    const status = statuses.get(c.name);
    if (!status) continue;
    const last = newest(c.name);
    if (isInit) {
      if (last?.state === 'exited' && last.exitCode === 0) continue;
      if (!last && anyRegularCreated && !isSidecar(c) && status.state?.waiting) {
        status.state = {
          terminated: { exitCode: 0, reason: 'Completed', message: MSG_INIT_ASSUMED_COMPLETED },
        };
        continue;
      }
    }
    if (!shouldContainerBeRestarted(c, pod, last)) continue;
    const failure = input.startFailures.get(c.name);
    if (!failure) continue;
    if (status.state?.terminated) status.lastState = status.state;
    status.state = {
      waiting: { reason: failure.reason, ...(failure.message ? { message: failure.message } : {}) },
    };
  }

  if (isInit) {
    return containers.map((c) => statuses.get(c.name)).filter((s): s is ContainerStatus => s !== undefined);
  }
  return [...statuses.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ProbeInput {
  pod: Pod;
  probes: ProbeView;
  /** When the kubelet process started (epoch ms); enables upstream's restart grace for readiness. */
  kubeletStartedAt?: number;
}

const runtimeIdOf = (s: ContainerStatus): string => {
  const id = s.containerID ?? '';
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
};

function isStarted(s: ContainerStatus, spec: Container | undefined, probes: ProbeView): boolean {
  if (!s.state?.running) return false;
  const result = probes.started(runtimeIdOf(s));
  if (result !== undefined) return result;
  if (s.started === true) return true;
  return spec?.startupProbe === undefined;
}

function evaluateReady(s: ContainerStatus, spec: Container | undefined, input: ProbeInput): boolean {
  if (!s.state?.running) return false;
  const id = runtimeIdOf(s);
  const result = input.probes.ready(id);
  if (result === true) return true;
  let ready = spec?.readinessProbe === undefined;
  const startedAt = s.state.running.startedAt ? Date.parse(s.state.running.startedAt) : Number.NaN;
  // upstream setReadyStateOnKubeletRestart: containers that ran before the kubelet restarted
  if (input.kubeletStartedAt !== undefined && startedAt < input.kubeletStartedAt - 10_000) {
    if (!ready && result === undefined) ready = true;
    if (spec?.readinessProbe && findCondition(input.pod.status?.conditions, 'Ready')?.status !== 'True') {
      ready = false;
    }
  }
  return ready;
}

/**
 * Sets `started` and `ready` from probe results (upstream prober manager UpdatePodStatus):
 * started = running and (startup Success, or already started, or no startup probe); ready is
 * evaluated only once started = running and (readiness Success, or no readiness probe). Regular
 * init containers are ready once they exited 0.
 */
export function applyProbeResults(
  input: ProbeInput,
  containerStatuses: ContainerStatus[],
  initStatuses: ContainerStatus[],
): void {
  const spec = input.pod.spec;
  for (const s of containerStatuses) {
    const c = spec?.containers.find((x) => x.name === s.name);
    s.started = isStarted(s, c, input.probes);
    if (s.started) s.ready = evaluateReady(s, c, input);
  }
  for (const s of initStatuses) {
    const c = spec?.initContainers?.find((x) => x.name === s.name);
    s.started = isStarted(s, c, input.probes);
    if (!isSidecar(c)) {
      if (s.state?.terminated?.exitCode === 0) s.ready = true;
      continue;
    }
    if (s.started) s.ready = evaluateReady(s, c, input);
  }
}
