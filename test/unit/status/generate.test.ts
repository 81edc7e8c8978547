import { describe, expect, it } from 'vitest';
import type { PodStatus } from '../../../src/api/types.js';
import { generatePodStatus, rejectedPodStatus, terminatedStatus } from '../../../src/status/generate.js';
import {
  conditionOf,
  container,
  input,
  NOW_S,
  pod,
  probes,
  rc,
  runtime,
  sandbox,
  sidecar,
  statusOf,
  T0,
  T0_S,
} from './fixtures.js';

describe('generatePodStatus: a new pod', () => {
  const s = generatePodStatus(input(pod()));

  it('is Pending with default waiting statuses', () => {
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses).toEqual([
      {
        name: 'a',
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        restartCount: 0,
        image: 'img/a:1',
        imageID: '',
      },
      {
        name: 'b',
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        restartCount: 0,
        image: 'img/b:1',
        imageID: '',
      },
    ]);
    expect(s.initContainerStatuses).toBeUndefined();
  });

  it('writes the kubelet conditions in upstream order with observedGeneration and transition time', () => {
    expect(s.conditions).toEqual([
      {
        type: 'PodReadyToStartContainers',
        observedGeneration: 3,
        status: 'False',
        reason: 'PodSandboxNotReady',
        message: 'no pod sandbox exists',
        lastTransitionTime: NOW_S,
      },
      { type: 'Initialized', observedGeneration: 3, status: 'True', lastTransitionTime: NOW_S },
      {
        type: 'Ready',
        observedGeneration: 3,
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [a b]',
        lastTransitionTime: NOW_S,
      },
      {
        type: 'ContainersReady',
        observedGeneration: 3,
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [a b]',
        lastTransitionTime: NOW_S,
      },
      { type: 'PodScheduled', observedGeneration: 3, status: 'True', lastTransitionTime: NOW_S },
    ]);
  });

  it('sets hostIP(s), startTime, qosClass and observedGeneration', () => {
    expect(s).toMatchObject({
      hostIP: '192.168.1.10',
      hostIPs: [{ ip: '192.168.1.10' }],
      startTime: NOW_S,
      qosClass: 'BestEffort',
      observedGeneration: 3,
    });
    expect(s.podIP).toBeUndefined();
    expect(s.podIPs).toBeUndefined();
  });

  it('uses PodInitializing with init containers and reports them incomplete', () => {
    const p = pod({ initContainers: [container('init')], containers: [container('a')] });
    const st = generatePodStatus(input(p));
    expect(statusOf(st, 'a')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(st.initContainerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(conditionOf(st, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [init]',
    });
  });

  it('lists volume mounts, read-only ones with recursiveReadOnly Disabled', () => {
    const p = pod({
      containers: [
        container('a', {
          volumeMounts: [
            { name: 'data', mountPath: '/data' },
            { name: 'token', mountPath: '/var/run/secrets', readOnly: true },
          ],
        }),
      ],
    });
    expect(generatePodStatus(input(p)).containerStatuses?.[0]?.volumeMounts).toEqual([
      { name: 'data', mountPath: '/data' },
      { name: 'token', mountPath: '/var/run/secrets', readOnly: true, recursiveReadOnly: 'Disabled' },
    ]);
  });
});

describe('generatePodStatus: running containers', () => {
  const a = rc('a', 'running');
  const b = rc('b', 'running');
  const rt = runtime([a, b]);

  it('reports running state, IDs, image refs, readiness and the pod IP', () => {
    const s = generatePodStatus(input(pod(), { runtime: rt }));
    expect(s.phase).toBe('Running');
    expect(statusOf(s, 'a')).toEqual({
      name: 'a',
      state: { running: { startedAt: T0_S } },
      lastState: {},
      ready: true,
      started: true,
      restartCount: 0,
      image: 'img/a:1',
      imageID: 'sha256:a',
      containerID: `containerd://${a.id}`,
      resources: {},
    });
    expect(s.podIP).toBe('10.0.0.5');
    expect(s.podIPs).toEqual([{ ip: '10.0.0.5' }]);
    expect(conditionOf(s, 'Ready')?.status).toBe('True');
    expect(conditionOf(s, 'ContainersReady')?.status).toBe('True');
    expect(conditionOf(s, 'PodReadyToStartContainers')).toMatchObject({ status: 'True' });
    expect(conditionOf(s, 'PodReadyToStartContainers')?.reason).toBeUndefined();
  });

  it('copies spec resources and requests into resources / allocatedResources', () => {
    const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } };
    const p = pod({ containers: [container('a', { resources })] });
    const s = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running')]) }));
    expect(statusOf(s, 'a')).toMatchObject({ resources, allocatedResources: resources.requests });
  });

  it('waits for a readiness probe result', () => {
    const p = pod({ containers: [container('a', { readinessProbe: { tcpSocket: { port: 80 } } })] });
    const rt1 = runtime([a]);
    expect(statusOf(generatePodStatus(input(p, { runtime: rt1 })), 'a')?.ready).toBe(false);
    const ok = probes({}, { [a.id]: true });
    expect(statusOf(generatePodStatus(input(p, { runtime: rt1, probes: ok })), 'a')?.ready).toBe(true);
    const bad = probes({}, { [a.id]: false });
    expect(statusOf(generatePodStatus(input(p, { runtime: rt1, probes: bad })), 'a')?.ready).toBe(false);
  });

  it('is not started (so not ready) until the startup probe succeeds', () => {
    const p = pod({ containers: [container('a', { startupProbe: { tcpSocket: { port: 80 } } })] });
    const rt1 = runtime([a]);
    const pending = statusOf(generatePodStatus(input(p, { runtime: rt1 })), 'a');
    expect(pending).toMatchObject({ started: false, ready: false });
    const ok = probes({ [a.id]: true }, {});
    expect(statusOf(generatePodStatus(input(p, { runtime: rt1, probes: ok })), 'a')).toMatchObject({
      started: true,
      ready: true,
    });
  });

  it('keeps started=true for a running container across kubelet restarts', () => {
    const p = pod({ containers: [container('a', { startupProbe: { tcpSocket: { port: 80 } } })] });
    const first = generatePodStatus(
      input(p, { runtime: runtime([a]), probes: probes({ [a.id]: true }, {}) }),
    );
    const again = generatePodStatus(input(p, { runtime: runtime([a]), previous: first }));
    expect(statusOf(again, 'a')?.started).toBe(true);
  });

  it('marks a container ready after a kubelet restart until its probe reports (restart grace)', () => {
    const p = pod(
      { containers: [container('a', { readinessProbe: { tcpSocket: { port: 80 } } })] },
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    );
    const s = generatePodStatus(input(p, { runtime: runtime([a]), kubeletStartedAt: T0 + 60_000 }));
    expect(statusOf(s, 'a')?.ready).toBe(true);
    const notReadyBefore = pod({
      containers: [container('a', { readinessProbe: { tcpSocket: { port: 80 } } })],
    });
    const s2 = generatePodStatus(
      input(notReadyBefore, { runtime: runtime([a]), kubeletStartedAt: T0 + 60_000 }),
    );
    expect(statusOf(s2, 'a')?.ready).toBe(false);
  });

  it('sorts containerStatuses by name and keeps initContainerStatuses in spec order', () => {
    const p = pod({
      initContainers: [container('z-init'), container('a-init')],
      containers: [container('zeta'), container('alpha'), container('mid')],
    });
    const s = generatePodStatus(input(p));
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['alpha', 'mid', 'zeta']);
    expect(s.initContainerStatuses?.map((c) => c.name)).toEqual(['z-init', 'a-init']);
  });
});

describe('generatePodStatus: state, lastState and restarts', () => {
  it('takes state from the newest instance and lastState from the one before', () => {
    const old = rc('a', 'exited', { exitCode: 2, reason: 'Error', restartCount: 0 });
    const cur = rc('a', 'running', { restartCount: 1 });
    const s = generatePodStatus(
      input(pod({ containers: [container('a')] }), { runtime: runtime([old, cur]) }),
    );
    expect(statusOf(s, 'a')).toMatchObject({
      restartCount: 1,
      state: { running: { startedAt: T0_S } },
      lastState: {
        terminated: {
          exitCode: 2,
          reason: 'Error',
          startedAt: T0_S,
          finishedAt: '2026-01-02T03:00:05Z',
          containerID: `containerd://${old.id}`,
        },
      },
    });
  });

  it('shows the start failure as waiting reason when the container will restart (CrashLoopBackOff)', () => {
    const dead = rc('a', 'exited', { exitCode: 1, reason: 'Error', restartCount: 3 });
    const failures = new Map([
      [
        'a',
        { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=a pod=p_ns(uid-1)' },
      ],
    ]);
    const p = pod({ containers: [container('a')] });
    const s = generatePodStatus(input(p, { runtime: runtime([dead]), startFailures: failures }));
    expect(statusOf(s, 'a')).toMatchObject({
      restartCount: 3,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: 'back-off 40s restarting failed container=a pod=p_ns(uid-1)',
        },
      },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    expect(s.phase).toBe('Running');

    const never = pod({ containers: [container('a')], restartPolicy: 'Never' });
    const t = generatePodStatus(input(never, { runtime: runtime([dead]), startFailures: failures }));
    expect(statusOf(t, 'a')?.state?.terminated?.exitCode).toBe(1);
    expect(t.phase).toBe('Failed');
  });

  it('shows image pull and config errors for containers that never started', () => {
    const failures = new Map([
      ['a', { reason: 'ErrImagePull', message: 'failed to pull image "x"' }],
      ['b', { reason: 'CreateContainerConfigError', message: 'configmap "cm" not found' }],
    ]);
    const s = generatePodStatus(input(pod(), { runtime: runtime([]), startFailures: failures }));
    expect(statusOf(s, 'a')?.state).toEqual({
      waiting: { reason: 'ErrImagePull', message: 'failed to pull image "x"' },
    });
    expect(statusOf(s, 'b')?.state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: 'configmap "cm" not found' },
    });
    expect(statusOf(s, 'a')?.lastState).toEqual({});
  });

  it('does not show start failures for a pod being deleted', () => {
    const p = pod({}, { meta: { deletionTimestamp: T0_S } });
    const failures = new Map([['a', { reason: 'ErrImagePull', message: 'x' }]]);
    const s = generatePodStatus(input(p, { runtime: runtime([]), startFailures: failures }));
    expect(statusOf(s, 'a')?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
  });

  it('appends the termination message to the runtime message', () => {
    const dead = rc('a', 'exited', { exitCode: 3, reason: 'Error', message: 'runtime says' });
    const quiet = rc('b', 'exited', { exitCode: 0 });
    const messages = new Map([
      [dead.id, 'app says bye'],
      [quiet.id, 'done'],
    ]);
    const p = pod({ restartPolicy: 'Never' });
    const s = generatePodStatus(input(p, { runtime: runtime([dead, quiet]), terminationMessages: messages }));
    expect(statusOf(s, 'a')?.state?.terminated?.message).toBe('runtime says: app says bye');
    expect(statusOf(s, 'b')?.state?.terminated?.message).toBe('done');
  });

  it('truncates terminated messages to 12288 bytes / number of containers', () => {
    const dead = rc('a', 'exited', { exitCode: 1, message: 'x'.repeat(7000) });
    const p = pod({ restartPolicy: 'Never' });
    const s = generatePodStatus(input(p, { runtime: runtime([dead, rc('b', 'exited')]) }));
    expect(statusOf(s, 'a')?.state?.terminated?.message).toHaveLength(6144);
  });

  it('reports a running container the runtime lost as ContainerStatusUnknown', () => {
    const p = pod({ containers: [container('a')] });
    const first = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'running', { restartCount: 2 })]) }),
    );
    const lost = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'unknown', { restartCount: 2 })]), previous: first }),
    );
    expect(statusOf(lost, 'a')).toMatchObject({
      restartCount: 3,
      state: {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
        },
      },
    });
  });

  it('reports a running container that vanished in lastState and counts a restart', () => {
    const p = pod({ containers: [container('a')] });
    const first = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'running', { restartCount: 1 })]) }),
    );
    const gone = generatePodStatus(input(p, { runtime: runtime([]), previous: first }));
    expect(statusOf(gone, 'a')).toMatchObject({
      restartCount: 2,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message:
            'The container could not be located when the pod was deleted.  The container used to be Running',
        },
      },
    });
    expect(gone.phase).toBe('Running');
    const deleting = pod({ containers: [container('a')] }, { meta: { deletionTimestamp: T0_S } });
    const g2 = generatePodStatus(input(deleting, { runtime: runtime([]), previous: first }));
    expect(statusOf(g2, 'a')?.restartCount).toBe(1);
  });

  it('keeps an old terminated status when the runtime no longer has the container', () => {
    const p = pod({ containers: [container('a')], restartPolicy: 'Never' });
    const first = generatePodStatus(input(p, { runtime: runtime([rc('a', 'exited', { exitCode: 0 })]) }));
    const later = generatePodStatus(input(p, { runtime: runtime([]), previous: first }));
    expect(statusOf(later, 'a')).toEqual(statusOf(first, 'a'));
    expect(later.phase).toBe('Succeeded');
  });

  it('carries restartCount and lastState over while waiting', () => {
    const previous: PodStatus = {
      containerStatuses: [
        {
          name: 'a',
          restartCount: 4,
          ready: false,
          image: 'img/a:1',
          imageID: '',
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ],
    };
    const s = generatePodStatus(input(pod({ containers: [container('a')] }), { previous }));
    expect(statusOf(s, 'a')).toMatchObject({
      restartCount: 4,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
  });

  it('treats a missing init container as completed once regular containers exist', () => {
    const p = pod({ initContainers: [container('init'), sidecar('side')], containers: [container('a')] });
    const s = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running')]) }));
    expect(statusOf(s, 'init')).toMatchObject({
      ready: true,
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          message:
            'Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally',
        },
      },
    });
    expect(statusOf(s, 'side')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('does not show a waiting reason for an init container that exited 0', () => {
    const p = pod({ initContainers: [container('init')], containers: [container('a')] });
    const failures = new Map([['init', { reason: 'RunContainerError', message: 'x' }]]);
    const s = generatePodStatus(
      input(p, { runtime: runtime([rc('init', 'exited')]), startFailures: failures }),
    );
    expect(statusOf(s, 'init')).toMatchObject({ ready: true, state: { terminated: { exitCode: 0 } } });
  });

  it('reports a created container as waiting without reason', () => {
    const s = generatePodStatus(input(pod(), { runtime: runtime([rc('a', 'created'), rc('b', 'running')]) }));
    expect(statusOf(s, 'a')?.state).toEqual({ waiting: {} });
    expect(s.phase).toBe('Pending');
  });
});

describe('generatePodStatus: sidecars', () => {
  const p = pod({ initContainers: [sidecar('side'), container('init')], containers: [container('a')] });

  it('initializes once the sidecar started and the init container succeeded', () => {
    const rt = runtime([rc('side', 'running'), rc('init', 'exited'), rc('a', 'running')]);
    const first = generatePodStatus(input(p, { runtime: rt }));
    expect(statusOf(first, 'side')).toMatchObject({ started: true, ready: true });
    expect(statusOf(first, 'init')).toMatchObject({ started: false, ready: true });
    expect(conditionOf(first, 'Initialized')?.status).toBe('True');
    expect(first.phase).toBe('Running');
  });

  it('counts a sidecar without a started flag yet as pending (upstream reads the previous flag)', () => {
    const rt = runtime([rc('side', 'running')]);
    const s = generatePodStatus(input(p, { runtime: rt }));
    expect(s.phase).toBe('Pending');
    expect(statusOf(s, 'side')?.started).toBe(true);
    expect(statusOf(s, 'a')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('counts an unready sidecar in ContainersReady', () => {
    const q = pod({
      initContainers: [sidecar('side', { readinessProbe: { tcpSocket: { port: 1 } } })],
      containers: [container('a')],
    });
    const rt = runtime([rc('side', 'running'), rc('a', 'running')]);
    const s = generatePodStatus(input(q, { runtime: rt }));
    expect(conditionOf(s, 'ContainersReady')?.message).toBe('containers with unready status: [side]');
  });
});

describe('generatePodStatus: phase bookkeeping', () => {
  it('keeps reason and message while the phase is unchanged', () => {
    const p = pod({}, { status: { phase: 'Pending', reason: 'SomeReason', message: 'api message' } });
    const s = generatePodStatus(input(p));
    expect(s).toMatchObject({ phase: 'Pending', reason: 'SomeReason', message: 'api message' });
    const r = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }));
    expect(r.phase).toBe('Running');
    expect(r.reason).toBeUndefined();
  });

  it('never leaves a terminal phase', () => {
    const p = pod({ restartPolicy: 'Never' });
    const done = generatePodStatus(input(p, { runtime: runtime([rc('a', 'exited'), rc('b', 'exited')]) }));
    expect(done.phase).toBe('Succeeded');
    const again = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]), previous: done }),
    );
    expect(again.phase).toBe('Succeeded');
    const apiFailed = pod({}, { status: { phase: 'Failed' } });
    expect(
      generatePodStatus(input(apiFailed, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }))
        .phase,
    ).toBe('Failed');
  });

  it('reports Succeeded / Failed once the pod worker finalised the pod', () => {
    // the runtime cache keeps the last IPs once the sandbox stopped
    const rt = {
      ...runtime([rc('a', 'exited'), rc('b', 'exited')], [sandbox({ ready: false })]),
      ips: ['10.0.0.5'],
    };
    const s = generatePodStatus(input(pod(), { runtime: rt, podIsTerminal: true, sandboxReady: false }));
    expect(s.phase).toBe('Succeeded');
    expect(conditionOf(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(conditionOf(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(conditionOf(s, 'Initialized')).toMatchObject({ status: 'True', reason: 'PodCompleted' });
    expect(conditionOf(s, 'PodReadyToStartContainers')).toMatchObject({
      status: 'False',
      reason: 'PodSandboxNotReady',
    });
    expect(s.podIP).toBe('10.0.0.5');
  });

  it('applies activeDeadlineSeconds as phase Failed / DeadlineExceeded', () => {
    const rt = runtime([rc('a', 'running'), rc('b', 'running')]);
    const message = 'Pod was active on the node longer than the specified deadline';
    const s = generatePodStatus(
      input(pod(), { runtime: rt, override: { reason: 'DeadlineExceeded', message } }),
    );
    expect(s).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded', message });
    expect(conditionOf(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    expect(conditionOf(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
  });

  it('applies an eviction with DisruptionTarget after the conditions', () => {
    const rt = runtime([rc('a', 'running'), rc('b', 'running')]);
    const message = 'The node was low on resource: memory. ';
    const s = generatePodStatus(
      input(pod(), { runtime: rt, override: { reason: 'Evicted', message, disruptionTarget: true } }),
    );
    expect(s).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(conditionOf(s, 'DisruptionTarget')).toEqual({
      type: 'DisruptionTarget',
      observedGeneration: 3,
      status: 'True',
      reason: 'TerminationByKubelet',
      message,
      lastTransitionTime: NOW_S,
    });
    expect(conditionOf(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    expect(s.conditions?.findIndex((c) => c.type === 'DisruptionTarget')).toBe(5);
  });
});

describe('generatePodStatus: conditions across generations', () => {
  it('keeps transition times while the status does not change', () => {
    const rt = runtime([rc('a', 'running'), rc('b', 'running')]);
    const first = generatePodStatus(input(pod(), { runtime: rt, now: T0 }));
    const second = generatePodStatus(input(pod(), { runtime: rt, previous: first }));
    expect(second.conditions?.map((c) => c.lastTransitionTime)).toEqual(first.conditions?.map(() => T0_S));
    const rt2 = runtime([rc('a', 'running'), rc('b', 'exited', { exitCode: 1 })]);
    const third = generatePodStatus(input(pod(), { runtime: rt2, previous: second }));
    expect(conditionOf(third, 'Ready')?.lastTransitionTime).toBe(NOW_S);
    expect(conditionOf(third, 'PodScheduled')?.lastTransitionTime).toBe(T0_S);
    expect(third.startTime).toBe(T0_S);
  });

  it('keeps foreign conditions first and lets readiness gates see them', () => {
    const foreign = { type: 'example.com/lb', status: 'True', lastTransitionTime: 'T-x', reason: 'Attached' };
    const p = pod(
      { readinessGates: [{ conditionType: 'example.com/lb' }] },
      { status: { conditions: [{ type: 'Ready', status: 'False' }, foreign] } },
    );
    const s = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }));
    expect(s.conditions?.[0]).toEqual(foreign);
    expect(s.conditions?.map((c) => c.type)).toEqual([
      'example.com/lb',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
    expect(conditionOf(s, 'Ready')?.status).toBe('True');
  });

  it('keeps a DisruptionTarget the kubelet set earlier', () => {
    const previous: PodStatus = {
      conditions: [
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'TerminationByKubelet',
          lastTransitionTime: 'T-dt',
        },
      ],
    };
    const s = generatePodStatus(input(pod(), { previous }));
    expect(conditionOf(s, 'DisruptionTarget')).toEqual(previous.conditions?.[0]);
  });

  it('explains a sandbox without IP', () => {
    const rt = runtime([], [sandbox({ ips: [] })]);
    const s = generatePodStatus(input(pod(), { runtime: rt, sandboxReady: false }));
    expect(conditionOf(s, 'PodReadyToStartContainers')).toMatchObject({
      status: 'False',
      reason: 'PodSandboxNotReady',
      message: 'pod sandbox has no IP address',
    });
    const t = generatePodStatus(
      input(pod(), { runtime: rt, sandboxReady: false, sandboxNotReadyMessage: 'custom' }),
    );
    expect(conditionOf(t, 'PodReadyToStartContainers')?.message).toBe('custom');
  });
});

describe('generatePodStatus: IPs', () => {
  it('orders dual-stack pod IPs by the node family, one per family', () => {
    const rt = runtime([], [sandbox({ ips: ['fd00::5', '10.0.0.5', '10.0.0.6'] })]);
    expect(generatePodStatus(input(pod(), { runtime: rt })).podIPs).toEqual([
      { ip: '10.0.0.5' },
      { ip: 'fd00::5' },
    ]);
    const v6 = generatePodStatus(input(pod(), { runtime: rt, nodeIPs: ['fd00::1', '192.168.1.10'] }));
    expect(v6.podIP).toBe('fd00::5');
    expect(v6.podIPs).toEqual([{ ip: 'fd00::5' }, { ip: '10.0.0.5' }]);
    expect(v6.hostIPs).toEqual([{ ip: 'fd00::1' }, { ip: '192.168.1.10' }]);
  });

  it('keeps the previous IPs when no sandbox reports any', () => {
    const previous: PodStatus = { podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }] };
    const s = generatePodStatus(
      input(pod(), { previous, runtime: runtime([], [sandbox({ ready: false, ips: [] })]) }),
    );
    expect(s.podIPs).toEqual([{ ip: '10.0.0.9' }]);
  });

  it('uses the newest ready sandbox', () => {
    const rt = runtime(
      [],
      [sandbox({ id: 'sb-2', ips: ['10.0.0.7'], attempt: 1 }), sandbox({ ready: false })],
    );
    expect(generatePodStatus(input(pod(), { runtime: rt })).podIP).toBe('10.0.0.7');
  });

  it('gives hostNetwork pods the node IPs', () => {
    const p = pod({ hostNetwork: true });
    const rt = runtime([], [sandbox({ ips: [], hostNetwork: true })]);
    const s = generatePodStatus(input(p, { runtime: rt, nodeIPs: ['192.168.1.10', 'fd00::1'] }));
    expect(s.podIP).toBe('192.168.1.10');
    expect(s.podIPs).toEqual([{ ip: '192.168.1.10' }, { ip: 'fd00::1' }]);
  });
});

describe('rejectedPodStatus', () => {
  it('is Failed with the admission reason', () => {
    expect(rejectedPodStatus(pod(), 'OutOfcpu', "Node didn't have enough resource: cpu")).toEqual({
      qosClass: 'BestEffort',
      phase: 'Failed',
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu",
    });
  });
});

describe('terminatedStatus (TerminatePod)', () => {
  const unknown = {
    terminated: {
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
    },
  };

  it('marks non-terminated containers unknown and the pod Failed', () => {
    const s = generatePodStatus(input(pod(), { runtime: runtime([rc('a', 'running'), rc('b', 'exited')]) }));
    const t = terminatedStatus(pod(), s);
    expect(statusOf(t, 'a')?.state).toEqual(unknown);
    expect(statusOf(t, 'b')?.state?.terminated?.reason).toBe('Completed');
    expect(t.phase).toBe('Failed');
    expect(s.phase).toBe('Running');
  });

  it('keeps a terminal phase and a static pod phase', () => {
    expect(terminatedStatus(pod(), { phase: 'Succeeded' }).phase).toBe('Succeeded');
    const staticPod = pod({}, { meta: { annotations: { 'kubernetes.io/config.source': 'file' } } });
    expect(terminatedStatus(staticPod, { phase: 'Running' }).phase).toBe('Running');
  });

  it('leaves waiting containers of an uninitialized pod and the waiting init suffix alone', () => {
    const p = pod({
      initContainers: [container('i1'), container('i2'), container('i3')],
      containers: [container('a')],
    });
    const s = generatePodStatus(input(p, { runtime: runtime([rc('i1', 'running')]) }));
    const t = terminatedStatus(p, s);
    expect(statusOf(t, 'i1')?.state).toEqual(unknown);
    expect(statusOf(t, 'i2')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(statusOf(t, 'i3')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(statusOf(t, 'a')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(t.phase).toBe('Failed');
  });

  it('marks the first init container when none ever started', () => {
    const p = pod({ initContainers: [container('i1'), container('i2')], containers: [container('a')] });
    const t = terminatedStatus(p, generatePodStatus(input(p)));
    expect(statusOf(t, 'i1')?.state).toEqual(unknown);
    expect(statusOf(t, 'i2')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });
});

// Upstream generateAPIPodStatus: status.ephemeralContainerStatuses from
// convertToAPIContainerStatuses over pod.spec.ephemeralContainers (not init), sorted by name;
// the prober never sets started/ready on them, and they do not count for phase or readiness.
describe('generatePodStatus: ephemeral containers', () => {
  const debug = { name: 'debugger', image: 'img/debugger:1', targetContainerName: 'a' };
  const p = pod({ ephemeralContainers: [debug, { name: 'dbg0', image: 'img/dbg0:1' }] });

  it('reports a waiting status for an ephemeral container not started yet', () => {
    const s = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }));
    expect(s.ephemeralContainerStatuses).toEqual([
      {
        name: 'dbg0',
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'img/dbg0:1',
        imageID: '',
      },
      {
        name: 'debugger',
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'img/debugger:1',
        imageID: '',
      },
    ]);
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('reports running and terminated ephemeral containers without started/ready from probes', () => {
    const dbg = rc('debugger', 'running');
    const done = rc('dbg0', 'exited', { exitCode: 3, reason: 'Error' });
    const s = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running'), dbg, done]) }),
    );
    const [d0, d1] = s.ephemeralContainerStatuses ?? [];
    expect(d1).toEqual({
      name: 'debugger',
      state: { running: { startedAt: T0_S } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: 'img/debugger:1',
      imageID: 'sha256:debugger',
      containerID: `containerd://${dbg.id}`,
      resources: {},
    });
    expect(d0?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(d0?.started).toBeUndefined();
    expect(s.phase).toBe('Running');
    expect(conditionOf(s, 'Ready')?.status).toBe('True');
  });
});
