import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CriClient } from '../../../src/cri/client.js';
import { RuntimeHealth } from '../../../src/cri/health.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

const busybox = 'localhost:5999/kubelet-ts/busybox:1.36';
let mock: CriMock;
let h: KubeletHarness;

beforeEach(async () => {
  mock = await CriMock.start();
  h = await KubeletHarness.start(mock.endpoint);
});
afterEach(async () => {
  await h.stop();
  await mock.stop();
});

describe('more lifecycle rules against the CRI mock', () => {
  it('fails a pod past activeDeadlineSeconds with DeadlineExceeded', async () => {
    const pod = testPod('deadline', { activeDeadlineSeconds: 1 });
    h.setPods([pod]);
    const uid = pod.metadata!.uid!;
    await h.waitFor('Running', () => h.status(uid)?.phase === 'Running');
    h.loop.syncSoon(uid);
    const st = await h.waitFor(
      'DeadlineExceeded',
      () => {
        h.loop.syncSoon(uid);
        const s = h.status(uid);
        return s?.reason === 'DeadlineExceeded' ? s : undefined;
      },
      10_000,
    );
    expect(st.phase).toBe('Failed');
    expect(st.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(h.events.some((e) => e.reason === 'DeadlineExceeded' && e.type === 'Normal')).toBe(true);
    const deadline = Date.now() + 10_000;
    let running = 1;
    while (running > 0 && Date.now() < deadline) {
      running = (await h.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } })).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).toBe(0);
  });

  it('restarts a running container in place when its image changes', async () => {
    const pod = testPod('upgrade');
    h.setPods([pod]);
    const uid = pod.metadata!.uid!;
    await h.waitFor('Running', () => h.status(uid)?.containerStatuses?.[0]?.ready === true);
    const firstId = h.status(uid)?.containerStatuses?.[0]?.containerID;
    h.update({
      ...pod,
      spec: {
        ...pod.spec!,
        containers: [
          { ...pod.spec!.containers[0]!, image: 'localhost:5999/kubelet-ts/busybox-nonroot:1.36' },
        ],
      },
    });
    const st = await h.waitFor('new container running', () => {
      const s = h.status(uid)?.containerStatuses?.[0];
      return s?.ready && s.containerID !== firstId ? s : undefined;
    });
    expect(st.restartCount).toBe(1);
    expect(st.image).toBe('localhost:5999/kubelet-ts/busybox-nonroot:1.36');
    expect(
      h.events.some(
        (e) => e.reason === 'Killing' && e.message === 'Container app definition changed, will be restarted',
      ),
    ).toBe(true);
  });

  it('uses the log tail as termination message with FallbackToLogsOnError', async () => {
    const pod = testPod('fallback', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sh', '-c', 'echo one; echo two; exit 2'],
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('Failed', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(st.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 2,
      message: 'one\ntwo\n',
    });
  });

  it('rejects a pod that does not fit with phase Failed and the upstream reason', async () => {
    const pod = testPod('huge', {
      containers: [{ name: 'c', image: busybox, resources: { requests: { cpu: '64' } } }],
    });
    h.setPods([pod]);
    const st = await h.waitFor('rejected', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(st.reason).toBe('OutOfcpu');
    expect(st.message).toBe(
      "Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 0, capacity: 2000",
    );
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);
  });

  // e2e "Sysctls should not launch unsafe, but not explicitly enabled sysctls on the node" and
  // "PodOSRejection should reject pod when the node OS doesn't match pod's OS".
  it('rejects an unsafe sysctl (SysctlForbidden) and a foreign OS (PodOSNotSupported)', async () => {
    const sysctl = testPod('sysctl', {
      securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '10000000000' }] },
    });
    const windows = testPod('windows', { os: { name: 'windows' } });
    h.setPods([sysctl, windows]);
    const a = await h.waitFor('sysctl rejected', () => {
      const s = h.status(sysctl.metadata!.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(a).toMatchObject({
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted',
    });
    const b = await h.waitFor('OS rejected', () => {
      const s = h.status(windows.metadata!.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(b).toMatchObject({
      reason: 'PodOSNotSupported',
      message: "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS",
    });
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);
  });

  // e2e "Pods should support pod readiness gates": a gate set through the status subresource
  // makes the kubelet recompute Ready at once (upstream HandlePodReconcile), not at the next resync.
  it('recomputes Ready as soon as the readiness gate conditions change in the API', async () => {
    const pod = testPod('gated', {
      readinessGates: [
        { conditionType: 'k8s.io/test-condition1' },
        { conditionType: 'k8s.io/test-condition2' },
      ],
    });
    const uid = pod.metadata!.uid!;
    h.setPods([pod]);
    const ready = () => h.status(uid)?.conditions?.find((c) => c.type === 'Ready');
    await h.waitFor(
      'Running, not Ready',
      () => h.status(uid)?.phase === 'Running' && ready()?.reason === 'ReadinessGatesNotReady',
    );
    const withGates = (g1: string, g2: string): typeof pod => ({
      ...pod,
      status: {
        ...h.status(uid),
        conditions: [
          ...(h.status(uid)?.conditions ?? []).filter((c) => !c.type.startsWith('k8s.io/')),
          { type: 'k8s.io/test-condition1', status: g1 },
          { type: 'k8s.io/test-condition2', status: g2 },
        ],
      },
    });
    h.update(withGates('True', 'True'));
    await h.waitFor('Ready', () => ready()?.status === 'True', 2_000);
    h.update(withGates('False', 'True'));
    await h.waitFor('not Ready', () => ready()?.status === 'False', 2_000);
    expect(ready()).toMatchObject({
      reason: 'ReadinessGatesNotReady',
      message: 'the status of pod readiness gate "k8s.io/test-condition1" is not "True", but False',
    });
  });

  // e2e "Container Restart Rules should restart container on rule match".
  it('restarts a container of a Never pod when a restart rule matches its exit code', async () => {
    const pod = testPod('rules', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: busybox,
          command: ['/bin/sh', '-c', 'exit 42'],
          restartPolicy: 'Never',
          restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
        },
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('restarted', () => {
      const s = h.status(pod.metadata!.uid!);
      return (s?.containerStatuses?.[0]?.restartCount ?? 0) > 0 ? s : undefined;
    });
    expect(st.phase).not.toBe('Failed');
    expect(st.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(42);
  });
});

describe('runtime health', () => {
  it('reports the runtime down when Status fails, and network readiness from the runtime', async () => {
    const m = await CriMock.start();
    const cri = new CriClient({ endpoint: m.endpoint });
    let changes = 0;
    const health = new RuntimeHealth(cri, { downAfterMs: 0, onChange: () => changes++ });
    try {
      expect((await health.check()).runtimeReady).toBe(true);
      expect(health.current.version).toBe('containerd://1.6.20~ds1-mock');
      m.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'cni plugin not initialized');
      const net = await health.check();
      expect(net.networkReady).toBe(false);
      expect(net.networkMessage).toBe(
        'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized',
      );
      await m.stop();
      const down = await health.check();
      expect(down.runtimeReady).toBe(false);
      expect(down.runtimeMessage).toBe('container runtime is down');
      // not-yet-checked → ready, network lost, runtime down
      expect(changes).toBe(3);
    } finally {
      cri.close();
      await m.stop();
    }
  });
});
