import type { Container, ContainerStatus, Pod, PodSpec, PodStatus } from '../../../src/api/types.js';
import type {
  ContainerRuntimeStatus,
  PodRuntimeStatus,
  RuntimeContainerState,
  SandboxStatus,
} from '../../../src/cri/runtimeState.js';
import type { GenerateInput, ProbeView } from '../../../src/status/generate.js';

/** 2026-01-02T03:04:05.678Z: generated timestamps truncate it to whole seconds. */
export const NOW = Date.parse('2026-01-02T03:04:05.678Z');
export const NOW_S = '2026-01-02T03:04:05Z';
export const T0 = Date.parse('2026-01-02T03:00:00.250Z');
export const T0_S = '2026-01-02T03:00:00Z';
export const UID = 'uid-1';

export function container(name: string, extra: Partial<Container> = {}): Container {
  return { name, image: `img/${name}:1`, ...extra };
}

export const sidecar = (name: string, extra: Partial<Container> = {}): Container =>
  container(name, { restartPolicy: 'Always', ...extra });

export function pod(
  spec: Partial<PodSpec> = {},
  extra: { status?: PodStatus; meta?: Pod['metadata'] } = {},
): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: UID, generation: 3, ...extra.meta },
    spec: { containers: [container('a'), container('b')], restartPolicy: 'Always', ...spec },
    status: extra.status ?? { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

let seq = 0;
export function rc(
  name: string,
  state: RuntimeContainerState,
  extra: Partial<ContainerRuntimeStatus> = {},
): ContainerRuntimeStatus {
  seq++;
  return {
    id: `${name}-${seq}`,
    name,
    podSandboxId: 'sb-1',
    state,
    createdAt: T0 + seq,
    startedAt: state === 'created' ? 0 : T0,
    finishedAt: state === 'exited' ? T0 + 5000 : 0,
    exitCode: 0,
    reason: state === 'exited' ? 'Completed' : '',
    message: '',
    image: `img/${name}:1`,
    imageRef: `sha256:${name}`,
    hash: 'h',
    restartCount: 0,
    logPath: '',
    terminationLogPath: '',
    labels: {},
    annotations: {},
    ...extra,
  };
}

export function sandbox(extra: Partial<SandboxStatus> = {}): SandboxStatus {
  return {
    id: 'sb-1',
    attempt: 0,
    ready: true,
    createdAt: T0,
    ips: ['10.0.0.5'],
    hostNetwork: false,
    labels: {},
    annotations: {},
    ...extra,
  };
}

export function runtime(
  containers: ContainerRuntimeStatus[],
  sandboxes: SandboxStatus[] = [sandbox()],
): PodRuntimeStatus {
  return {
    uid: UID,
    name: 'p',
    namespace: 'ns',
    sandboxes,
    containers: [...containers].sort((x, y) => y.createdAt - x.createdAt),
    ips: sandboxes.find((s) => s.ready)?.ips ?? [],
    observedAt: NOW,
  };
}

export const noProbes: ProbeView = { started: () => undefined, ready: () => undefined };

export function probes(started: Record<string, boolean>, ready: Record<string, boolean>): ProbeView {
  return { started: (id) => started[id], ready: (id) => ready[id] };
}

export function input(p: Pod, extra: Partial<GenerateInput> = {}): GenerateInput {
  return {
    pod: p,
    runtime: undefined,
    previous: undefined,
    nodeIPs: ['192.168.1.10'],
    now: NOW,
    runtimeName: 'containerd',
    startFailures: new Map(),
    probes: noProbes,
    terminationMessages: new Map(),
    podIsTerminal: false,
    sandboxReady: extra.runtime !== undefined,
    ...extra,
  };
}

// Container statuses for getPhase tables.
export const running = (name: string, started?: boolean): ContainerStatus => ({
  name,
  ready: false,
  restartCount: 0,
  image: '',
  imageID: '',
  state: { running: { startedAt: T0_S } },
  ...(started === undefined ? {} : { started }),
});
export const waiting = (name: string, lastExit?: number): ContainerStatus => ({
  name,
  ready: false,
  restartCount: 0,
  image: '',
  imageID: '',
  state: { waiting: { reason: 'ContainerCreating' } },
  lastState: lastExit === undefined ? {} : { terminated: { exitCode: lastExit } },
});
export const terminated = (name: string, exitCode: number): ContainerStatus => ({
  name,
  ready: false,
  restartCount: 0,
  image: '',
  imageID: '',
  state: { terminated: { exitCode } },
});

export const conditionOf = (s: PodStatus, type: string) => s.conditions?.find((c) => c.type === type);
export const statusOf = (s: PodStatus, name: string) =>
  [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])].find((c) => c.name === name);
