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
