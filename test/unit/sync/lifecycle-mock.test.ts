import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Lifecycle scenarios of the sync core (plan + syncer + workers + status generation) against
// the CRI mock.

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

describe('pod lifecycle against the CRI mock', () => {
  it('runs a pod to Running with a ready container', async () => {
    const pod = testPod('web');
    h.setPods([pod]);
    const st = await h.waitFor('Running', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.phase === 'Running' && s.containerStatuses?.[0]?.ready ? s : undefined;
    });
    expect(st.containerStatuses?.[0]?.state?.running?.startedAt).toBeTruthy();
    expect(st.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
    expect(st.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(st.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(h.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
  });

  it('reports Succeeded for a restartPolicy Never pod that exits 0, Failed for exit 3', async () => {
    const ok = testPod('ok', {
      restartPolicy: 'Never',
      containers: [
        { name: 'c', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sh', '-c', 'exit 0'] },
      ],
    });
    const bad = testPod('bad', {
      restartPolicy: 'Never',
      containers: [
        { name: 'c', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sh', '-c', 'exit 3'] },
      ],
    });
    h.setPods([ok, bad]);
    await h.waitFor('Succeeded', () => h.status(ok.metadata!.uid!)?.phase === 'Succeeded');
    const failed = await h.waitFor('Failed', () => {
      const s = h.status(bad.metadata!.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(failed.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('puts a crashing container into CrashLoopBackOff', async () => {
    const pod = testPod('crash', {
      containers: [
        { name: 'c', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sh', '-c', 'exit 1'] },
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('CrashLoopBackOff', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    });
    expect(st.containerStatuses?.[0]?.state?.waiting?.message).toMatch(
      /^back-off 10s restarting failed container=c pod=crash_default\(/,
    );
    expect(st.containerStatuses?.[0]?.restartCount).toBe(1);
    expect(st.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
    expect(h.events.some((e) => e.reason === 'BackOff' && e.type === 'Warning')).toBe(true);
  });

  it('shows ErrImagePull then ImagePullBackOff for a missing image', async () => {
    const pod = testPod('noimg', {
      containers: [
        { name: 'c', image: 'localhost:5999/kubelet-ts/does-not-exist:1', imagePullPolicy: 'IfNotPresent' },
      ],
    });
    h.setPods([pod]);
    await h.waitFor(
      'ErrImagePull',
      () => h.status(pod.metadata!.uid!)?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    );
    h.loop.syncSoon(pod.metadata!.uid!);
    const st = await h.waitFor('ImagePullBackOff', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? s : undefined;
    });
    expect(st.containerStatuses?.[0]?.state?.waiting?.message).toMatch(
      /^Back-off pulling image "localhost:5999\/kubelet-ts\/does-not-exist:1": ErrImagePull: /,
    );
    expect(st.phase).toBe('Pending');
  });

  it('runs init containers in order before the app', async () => {
    const pod = testPod('init', {
      initContainers: [
        { name: 'i1', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sh', '-c', 'exit 0'] },
        { name: 'i2', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sh', '-c', 'exit 0'] },
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('Running', () => {
      const s = h.status(pod.metadata!.uid!);
      return s?.phase === 'Running' ? s : undefined;
    });
    expect(st.initContainerStatuses?.map((s) => s.state?.terminated?.reason)).toEqual([
      'Completed',
      'Completed',
    ]);
    const started = h.events.filter((e) => e.reason === 'Started').map((e) => e.message);
    expect(started).toEqual(['Started container i1', 'Started container i2', 'Started container app']);
    expect(st.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('terminates a deleted pod gracefully and stops its sandbox', async () => {
    const pod = testPod('del', {
      containers: [
        {
          name: 'c',
          image: 'localhost:5999/kubelet-ts/busybox:1.36',
          command: ['sh', '-c', 'trap "exit 143" TERM; sleep 3600 & wait'],
        },
      ],
    });
    h.setPods([pod]);
    const uid = pod.metadata!.uid!;
    await h.waitFor('Running', () => h.status(uid)?.phase === 'Running');
    h.update({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 5,
      },
    });
    const st = await h.waitFor('terminal status', () => {
      const s = h.status(uid);
      return s?.phase === 'Failed' || s?.phase === 'Succeeded' ? s : undefined;
    });
    expect(st.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(143);
    expect(h.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container c')).toBe(true);
    const sandboxes = await h.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
    expect(sandboxes.every((s) => s.state === 'SANDBOX_NOTREADY')).toBe(true);
  });

  it('removes runtime pods that belong to no pod', async () => {
    const pod = testPod('orphan');
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(pod.metadata!.uid!)?.phase === 'Running');
    h.setPods([]);
    await h.waitFor('containers removed', () => mock.containers().length === 0 || undefined, 15_000);
    const deadline = Date.now() + 10_000;
    while ((await h.cri.listPodSandbox()).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await h.cri.listPodSandbox()).toEqual([]);
  });
});
