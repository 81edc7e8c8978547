import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../../src/api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../../src/cri/runtimeState.js';
import { containerHash } from '../../../src/sync/hash.js';
import { computePodActions, type ProbeResult } from '../../../src/sync/plan.js';

const img = 'localhost:5999/kubelet-ts/busybox:1.36';
const c = (name: string, extra: Partial<Container> = {}): Container => ({ name, image: img, ...extra });

function pod(spec: Partial<NonNullable<Pod['spec']>>, deleting = false): Pod {
  return {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u1',
      ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { containers: [c('app')], restartPolicy: 'Always', ...spec },
  };
}

let seq = 0;
function ctr(
  name: string,
  state: ContainerRuntimeStatus['state'],
  extra: Partial<ContainerRuntimeStatus> = {},
): ContainerRuntimeStatus {
  seq++;
  return {
    id: `${name}-${seq}`,
    name,
    podSandboxId: 'sb1',
    state,
    createdAt: 1000 + seq,
    startedAt: 0,
    finishedAt: 0,
    exitCode: 0,
    reason: '',
    message: '',
    image: img,
    imageRef: 'sha256:x',
    hash: containerHash({ name, image: img }),
    restartCount: 0,
    logPath: '',
    terminationLogPath: '',
    labels: {},
    annotations: {},
    ...extra,
  };
}

function rt(
  containers: ContainerRuntimeStatus[],
  sandbox: { ready?: boolean; ips?: string[] } | null = {},
): PodRuntimeStatus {
  return {
    uid: 'u1',
    name: 'p',
    namespace: 'ns',
    sandboxes: sandbox
      ? [
          {
            id: 'sb1',
            attempt: 0,
            ready: sandbox.ready ?? true,
            createdAt: 1,
            ips: sandbox.ips ?? ['10.0.0.5'],
            hostNetwork: false,
            labels: {},
            annotations: {},
          },
        ]
      : [],
    containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
    ips: ['10.0.0.5'],
    observedAt: 0,
  };
}

const none = (_id: string): ProbeResult | undefined => undefined;
const plan = (
  p: Pod,
  r: PodRuntimeStatus | undefined,
  probes: { liveness?: typeof none; startup?: typeof none } = {},
) =>
  computePodActions({
    pod: p,
    runtime: r,
    liveness: probes.liveness ?? none,
    startup: probes.startup ?? none,
  });

describe('computePodActions', () => {
  it('creates a sandbox and starts every container for a new pod', () => {
    const a = plan(pod({ containers: [c('a'), c('b')] }), undefined);
    expect(a).toMatchObject({
      createSandbox: true,
      attempt: 0,
      containersToStart: ['a', 'b'],
      sandboxChanged: false,
    });
  });

  it('starts only the first init container for a new pod with init containers', () => {
    const a = plan(pod({ initContainers: [c('i1'), c('i2')] }), undefined);
    expect(a).toMatchObject({ createSandbox: true, initContainersToStart: ['i1'], containersToStart: [] });
  });

  it('recreates a sandbox that is not ready with attempt + 1 and kills the pod first', () => {
    const a = plan(pod({}), rt([ctr('app', 'exited', { exitCode: 137 })], { ready: false }));
    expect(a).toMatchObject({
      createSandbox: true,
      killPod: true,
      attempt: 1,
      sandboxChanged: true,
      containersToStart: ['app'],
    });
  });

  it('recreates a sandbox without an IP for a non-hostNetwork pod', () => {
    const a = plan(pod({}), rt([], { ips: [] }));
    expect(a.createSandbox).toBe(true);
  });

  it('does not create a new sandbox for restartPolicy Never after containers existed', () => {
    const a = plan(pod({ restartPolicy: 'Never' }), rt([ctr('app', 'exited')], { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: false });
  });

  it('does not create a sandbox for OnFailure when every container succeeded', () => {
    const a = plan(
      pod({ restartPolicy: 'OnFailure' }),
      rt([ctr('app', 'exited', { exitCode: 0 })], { ready: false }),
    );
    expect(a).toMatchObject({ killPod: true, createSandbox: false });
  });

  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 2, true],
    ['Never', 1, false],
  ] as const)('restartPolicy %s with exit %i: restart=%s', (policy, code, restart) => {
    const a = plan(
      pod({ restartPolicy: policy, containers: [c('app'), c('side')] }),
      rt([ctr('app', 'exited', { exitCode: code }), ctr('side', 'running')]),
    );
    expect(a.containersToStart).toEqual(restart ? ['app'] : []);
    expect(a.killPod).toBe(false);
  });

  it('kills the pod when nothing runs and nothing will be started', () => {
    const a = plan(pod({ restartPolicy: 'Never' }), rt([ctr('app', 'exited', { exitCode: 0 })]));
    expect(a.killPod).toBe(true);
  });

  it('restarts a running container whose image changed, whatever the policy', () => {
    const running = ctr('app', 'running', { hash: 'deadbeef' });
    const a = plan(pod({ restartPolicy: 'Never' }), rt([running]));
    expect(a.containersToKill).toEqual([
      {
        id: running.id,
        name: 'app',
        message: 'Container app definition changed, will be restarted',
        reason: '',
      },
    ]);
    expect(a.containersToStart).toEqual(['app']);
  });

  it('kills a container failing liveness, restarting it unless restartPolicy is Never', () => {
    const running = ctr('app', 'running');
    const liveness = (id: string): ProbeResult | undefined => (id === running.id ? 'Failure' : undefined);
    const a = plan(pod({}), rt([running]), { liveness });
    expect(a.containersToKill[0]).toMatchObject({
      message: 'Container app failed liveness probe, will be restarted',
      reason: 'LivenessProbe',
    });
    const never = plan(pod({ restartPolicy: 'Never' }), rt([running]), { liveness });
    expect(never.containersToKill[0]?.message).toBe('Container app failed liveness probe');
    expect(never.containersToStart).toEqual([]);
  });

  it('never restarts containers of a pod being deleted', () => {
    const a = plan(
      pod({}, true),
      rt([ctr('app', 'exited', { exitCode: 1 }), ctr('app', 'exited', { exitCode: 1 })]),
    );
    expect(a.containersToStart).toEqual([]);
  });

  describe('init containers', () => {
    const spec = { initContainers: [c('i1'), c('i2')] };
    it('waits for a running init container', () => {
      const a = plan(pod(spec), rt([ctr('i1', 'running')]));
      expect(a).toMatchObject({ initContainersToStart: [], containersToStart: [], initialized: false });
    });
    it('starts the next init container after one succeeded', () => {
      expect(plan(pod(spec), rt([ctr('i1', 'exited')])).initContainersToStart).toEqual(['i2']);
    });
    it('starts the app containers once the last init container succeeded', () => {
      const a = plan(pod(spec), rt([ctr('i1', 'exited'), ctr('i2', 'exited')]));
      expect(a).toMatchObject({ initialized: true, containersToStart: ['app'] });
    });
    it('restarts a failed init container (Always/OnFailure) and fails the pod under Never', () => {
      expect(plan(pod(spec), rt([ctr('i1', 'exited', { exitCode: 1 })])).initContainersToStart).toEqual([
        'i1',
      ]);
      const never = plan(
        pod({ ...spec, restartPolicy: 'Never' }),
        rt([ctr('i1', 'exited', { exitCode: 1 })]),
      );
      expect(never).toMatchObject({ killPod: true, initContainersToStart: [] });
    });
  });

  describe('sidecars (init containers with restartPolicy Always)', () => {
    const spec = { initContainers: [c('side', { restartPolicy: 'Always' }), c('i2')] };
    it('starts the next init container once the sidecar runs', () => {
      expect(plan(pod(spec), rt([ctr('side', 'running')])).initContainersToStart).toEqual(['i2']);
    });
    it('waits for the sidecar startup probe before starting the next one', () => {
      const withProbe = {
        initContainers: [
          c('side', { restartPolicy: 'Always', startupProbe: { exec: { command: ['true'] } } }),
          c('i2'),
        ],
      };
      const side = ctr('side', 'running');
      expect(plan(pod(withProbe), rt([side])).initContainersToStart).toEqual([]);
      const ok = plan(pod(withProbe), rt([side]), { startup: () => 'Success' });
      expect(ok.initContainersToStart).toEqual(['i2']);
    });
    it('restarts an exited sidecar after initialization, whatever the pod restartPolicy', () => {
      const a = plan(
        pod({ ...spec, restartPolicy: 'Never' }),
        rt([ctr('side', 'exited', { exitCode: 0 }), ctr('i2', 'exited'), ctr('app', 'running')]),
      );
      expect(a.initContainersToStart).toEqual(['side']);
    });
    it('does not keep a finished Never pod alive for its sidecar', () => {
      const a = plan(
        pod({ ...spec, restartPolicy: 'Never' }),
        rt([ctr('side', 'running'), ctr('i2', 'exited'), ctr('app', 'exited')]),
      );
      expect(a).toMatchObject({ killPod: true, initContainersToStart: [] });
    });
  });
});

// Upstream computePodActions: ephemeral containers without any runtime instance are started in
// the existing sandbox (EphemeralContainersToStart), even before initialization completes, and
// are never restarted.
describe('computePodActions: ephemeral containers', () => {
  const debug = { name: 'debugger', image: img, targetContainerName: 'app' };

  it('starts an ephemeral container that has no runtime instance yet', () => {
    const a = plan(pod({ ephemeralContainers: [debug] }), rt([ctr('app', 'running')]));
    expect(a).toMatchObject({
      killPod: false,
      createSandbox: false,
      ephemeralContainersToStart: ['debugger'],
      containersToStart: [],
      containersToKill: [],
    });
  });

  it('never restarts an ephemeral container, whatever its state and the restartPolicy', () => {
    for (const state of ['exited', 'running', 'created', 'unknown'] as const) {
      const a = plan(
        pod({ ephemeralContainers: [debug], restartPolicy: 'Always' }),
        rt([ctr('app', 'running'), ctr('debugger', state, { exitCode: 1 })]),
      );
      expect(a.ephemeralContainersToStart).toEqual([]);
      expect(a.containersToKill).toEqual([]);
    }
  });

  it('starts ephemeral containers while init containers still run', () => {
    const a = plan(
      pod({ initContainers: [c('i1'), c('i2')], ephemeralContainers: [debug, { name: 'dbg2', image: img }] }),
      rt([ctr('i1', 'running')]),
    );
    expect(a).toMatchObject({
      initialized: false,
      initContainersToStart: [],
      ephemeralContainersToStart: ['debugger', 'dbg2'],
    });
  });

  it('starts none when the sandbox is being re-created', () => {
    const a = plan(pod({ ephemeralContainers: [debug] }), rt([ctr('app', 'exited')], { ready: false }));
    expect(a).toMatchObject({ createSandbox: true, ephemeralContainersToStart: [] });
  });

  it('does not count a running ephemeral container as keeping the pod alive', () => {
    const a = plan(
      pod({ ephemeralContainers: [debug], restartPolicy: 'Never' }),
      rt([ctr('app', 'exited', { exitCode: 0 }), ctr('debugger', 'running')]),
    );
    expect(a.killPod).toBe(true);
  });
});
