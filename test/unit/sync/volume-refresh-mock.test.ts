import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Upstream's volume reconciler remounts configMap/secret/projected volumes in the background:
// a remount that fails (apiserver away, object deleted) keeps the published contents and never
// holds up the pod's sync. So a container still restarts while its configMap cannot be read.

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

describe('a volume that can no longer be refreshed', () => {
  it('keeps its contents and lets the container restart', async () => {
    h.put({ kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { k: 'v1' } });
    const p = testPod('refresh', {
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
      containers: [
        {
          name: 'app',
          image: 'localhost:5999/kubelet-ts/busybox:1.36',
          command: ['sleep', 'infinity'],
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        },
      ],
    });
    const uid = p.metadata?.uid ?? '';
    h.update(p);
    const first = await h.waitFor(
      'running',
      () => h.status(uid)?.containerStatuses?.[0]?.state?.running && h.status(uid),
    );
    const id = (first.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');

    // The configMap can no longer be read; then the container exits.
    h.configMaps.clear();
    mock.exitContainer(id, 1);
    const again = await h.waitFor('restarted and running', () => {
      const cs = h.status(uid)?.containerStatuses?.[0];
      return cs?.restartCount === 1 && cs.state?.running ? cs : undefined;
    });
    expect(again.containerID).not.toBe(first.containerStatuses?.[0]?.containerID);
    expect(h.events.filter((e) => e.reason === 'FailedMount')).toEqual([]);
  });

  it('does not wait for a refresh that hangs (the apiserver shutting down): the restart goes ahead', async () => {
    h.put({ kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { k: 'v1' } });
    const p = testPod('hang', {
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
      containers: [
        {
          name: 'app',
          image: 'localhost:5999/kubelet-ts/busybox:1.36',
          command: ['sleep', 'infinity'],
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        },
      ],
    });
    const uid = p.metadata?.uid ?? '';
    h.update(p);
    const first = await h.waitFor(
      'running',
      () => h.status(uid)?.containerStatuses?.[0]?.state?.running && h.status(uid),
    );
    const id = (first.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
    // Every read of the configMap now takes 5 s.
    const slow = (() =>
      new Promise((r) => setTimeout(() => r(undefined), 5_000))) as unknown as typeof h.configMaps.get;
    h.configMaps.get = slow;
    const t0 = Date.now();
    mock.exitContainer(id, 1);
    await h.waitFor('restarted', () => h.status(uid)?.containerStatuses?.[0]?.restartCount === 1);
    // Well before the slow read returns (generous bound).
    expect(Date.now() - t0).toBeLessThan(4_500);
    await new Promise((r) => setTimeout(r, 5_500));
  }, 30_000);

  it('still refuses to start a pod whose volume was never set up', async () => {
    const p = testPod('never', { volumes: [{ name: 'cfg', configMap: { name: 'missing' } }] });
    h.update(p);
    await h.waitFor('FailedMount', () => h.events.find((e) => e.reason === 'FailedMount'));
    expect(h.status(p.metadata?.uid ?? '')?.containerStatuses?.[0]?.state?.waiting?.reason).toBe(
      'ContainerCreating',
    );
  });
});
