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

  // Upstream TestComputePodActionsWithContainerRestartRules (feature gate ContainerRestartRules,
  // beta, on) and the e2e specs "Container Restart Rules".
  describe('container restartPolicy and restartPolicyRules', () => {
    const three = (policy: Container['restartPolicy'], podPolicy: string) =>
      pod({
        restartPolicy: podPolicy,
        containers: [c('foo1', { restartPolicy: policy }), c('foo2', { restartPolicy: policy }), c('foo3')],
      });
    const running3 = () => ctr('foo3', 'running', { hash: containerHash(c('foo3')) });

    it('restarts exited containers of a Never pod whose containers say Always', () => {
      const a = plan(
        three('Always', 'Never'),
        rt([ctr('foo1', 'exited', { exitCode: 0 }), ctr('foo2', 'exited', { exitCode: 111 }), running3()]),
      );
      expect(a).toMatchObject({ killPod: false, createSandbox: false, containersToStart: ['foo1', 'foo2'] });
    });

    it('restarts only the failed one under a container OnFailure policy', () => {
      const a = plan(
        three('OnFailure', 'Never'),
        rt([ctr('foo1', 'exited', { exitCode: 0 }), ctr('foo2', 'exited', { exitCode: 111 }), running3()]),
      );
      expect(a.containersToStart).toEqual(['foo2']);
      const created = plan(
        three('OnFailure', 'Never'),
        rt([ctr('foo1', 'exited', { exitCode: 0 }), ctr('foo2', 'created'), running3()]),
      );
      expect(created.containersToStart).toEqual(['foo2']);
    });

    it('does not restart containers whose policy is Never in an Always pod', () => {
      const a = plan(
        three('Never', 'Always'),
        rt([ctr('foo1', 'exited', { exitCode: 0 }), ctr('foo2', 'exited', { exitCode: 111 }), running3()]),
      );
      expect(a).toMatchObject({ killPod: false, containersToStart: [], containersToKill: [] });
    });

    it('recreates a dead sandbox with every container except a succeeded OnFailure one', () => {
      const p = pod({ containers: [c('foo1'), c('foo2', { restartPolicy: 'OnFailure' }), c('foo3')] });
      const a = plan(p, rt([ctr('foo2', 'exited', { exitCode: 0 })], { ready: false }));
      expect(a).toMatchObject({
        killPod: true,
        createSandbox: true,
        attempt: 1,
        containersToStart: ['foo1', 'foo3'],
      });
    });

    const rules = (op: 'In' | 'NotIn', values: number[]): Partial<Container> => ({
      restartPolicy: 'Never',
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: op, values } }],
    });

    it('restarts on a matching exit-code rule despite Never (e2e: exit 42, In [42])', () => {
      const p = pod({ restartPolicy: 'Never', containers: [c('main', rules('In', [42]))] });
      expect(plan(p, rt([ctr('main', 'exited', { exitCode: 42 })])).containersToStart).toEqual(['main']);
      // no match: the container's Never applies and the pod is done
      const miss = plan(p, rt([ctr('main', 'exited', { exitCode: 1 })]));
      expect(miss).toMatchObject({ containersToStart: [], killPod: true });
    });

    it('NotIn matches every other exit code', () => {
      const p = pod({ restartPolicy: 'Never', containers: [c('main', rules('NotIn', [0]))] });
      expect(plan(p, rt([ctr('main', 'exited', { exitCode: 3 })])).containersToStart).toEqual(['main']);
      expect(plan(p, rt([ctr('main', 'exited', { exitCode: 0 })])).containersToStart).toEqual([]);
    });

    it('a failed init container of a Never pod restarts when its rule matches, else the pod is killed', () => {
      const p = pod({ restartPolicy: 'Never', initContainers: [c('init', rules('In', [42]))] });
      expect(plan(p, rt([ctr('init', 'exited', { exitCode: 42 })])).initContainersToStart).toEqual(['init']);
      expect(plan(p, rt([ctr('init', 'exited', { exitCode: 7 })]))).toMatchObject({
        killPod: true,
        initContainersToStart: [],
      });
      // an Always pod whose init container says Never does not retry it
      const never = pod({ restartPolicy: 'Always', initContainers: [c('init', { restartPolicy: 'Never' })] });
      expect(plan(never, rt([ctr('init', 'exited', { exitCode: 1 })]))).toMatchObject({ killPod: true });
    });

    it('a running container failing liveness restarts by its own policy only', () => {
      const spec = c('main', { restartPolicy: 'Always', livenessProbe: { exec: { command: ['true'] } } });
      const p = pod({ restartPolicy: 'Never', containers: [spec] });
      const s = ctr('main', 'running', { hash: containerHash(spec) });
      const a = plan(p, rt([s]), { liveness: () => 'Failure' });
      expect(a.containersToStart).toEqual(['main']);
      expect(a.containersToKill[0]?.message).toBe('Container main failed liveness probe, will be restarted');
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
