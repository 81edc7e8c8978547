import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Ephemeral containers against the CRI mock, as upstream SyncPod handles them: an ephemeral
// container added to a running pod is started in the existing sandbox (in the target's PID
// namespace), reported in status.ephemeralContainerStatuses, never restarted, and killed with
// the pod.

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

function withEphemeral(pod: Pod, command: string[], target?: string): Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, generation: 2 },
    spec: {
      ...pod.spec!,
      ephemeralContainers: [
        {
          name: 'debugger',
          image: busybox,
          command,
          stdin: true,
          tty: true,
          ...(target ? { targetContainerName: target } : {}),
        },
      ],
    },
  };
}

describe('ephemeral containers against the CRI mock', () => {
  it('starts an added ephemeral container in the running pod, in the target PID namespace', async () => {
    const pod = testPod('eph');
    const uid = pod.metadata!.uid!;
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid)?.phase === 'Running');
    const sandboxes = mock.journal.calls('RunPodSandbox').length;
    const appId = mock.containers().find((c) => c.name === 'app')?.id;

    h.update(withEphemeral(pod, ['sh', '-c', 'sleep 3600'], 'app'));
    const st = await h.waitFor('ephemeral running', () => {
      const s = h.status(uid);
      return s?.ephemeralContainerStatuses?.[0]?.state?.running ? s : undefined;
    });
    expect(st.ephemeralContainerStatuses?.[0]).toMatchObject({
      name: 'debugger',
      image: busybox,
      restartCount: 0,
      ready: false,
    });
    expect(st.ephemeralContainerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
    expect(st.phase).toBe('Running');
    expect(st.containerStatuses?.map((c) => c.name)).toEqual(['app']);

    // Same sandbox, the target's PID namespace.
    expect(mock.journal.calls('RunPodSandbox').length).toBe(sandboxes);
    const create = mock.journal.calls('CreateContainer').find((r) => r.config?.metadata?.name === 'debugger');
    expect(create?.config?.linux?.securityContext?.namespaceOptions).toMatchObject({
      pid: 'TARGET',
      targetId: appId,
    });
    expect(create?.config?.labels?.['io.kubernetes.container.name']).toBe('debugger');

    const started = h.events.find(
      (e) => e.reason === 'Started' && e.message === 'Started container debugger',
    );
    expect(started?.ref.fieldPath).toBe('spec.ephemeralContainers{debugger}');

    // Killed with the pod.
    h.update({
      ...withEphemeral(pod, ['sh', '-c', 'sleep 3600'], 'app'),
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 1,
      },
    });
    await h.waitFor('pod terminated', () => {
      const s = h.status(uid);
      return s?.phase === 'Failed' || s?.phase === 'Succeeded' ? s : undefined;
    });
    const running = await h.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    expect(running).toEqual([]);
    const killing = h.events.find((e) => e.reason === 'Killing' && e.ref.fieldPath?.includes('debugger'));
    expect(killing?.ref.fieldPath).toBe('spec.ephemeralContainers{debugger}');
  });

  it('never restarts an ephemeral container that exited', async () => {
    const pod = testPod('eph-exit');
    const uid = pod.metadata!.uid!;
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid)?.phase === 'Running');

    h.update(withEphemeral(pod, ['sh', '-c', 'echo polo; exit 3']));
    const st = await h.waitFor('ephemeral terminated', () => {
      const s = h.status(uid);
      return s?.ephemeralContainerStatuses?.[0]?.state?.terminated ? s : undefined;
    });
    expect(st.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    // Let a few syncs pass: no second instance is created.
    await new Promise((r) => setTimeout(r, 1500));
    const creates = mock.journal
      .calls('CreateContainer')
      .filter((r) => r.config?.metadata?.name === 'debugger');
    expect(creates.length).toBe(1);
    expect(h.status(uid)?.ephemeralContainerStatuses?.[0]?.restartCount).toBe(0);
    expect(h.status(uid)?.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
  });

  it('fails with CreateContainerConfigError when the target container does not exist', async () => {
    const pod = testPod('eph-notarget');
    const uid = pod.metadata!.uid!;
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid)?.phase === 'Running');

    h.update(withEphemeral(pod, ['sh', '-c', 'sleep 3600'], 'nope'));
    const st = await h.waitFor('ephemeral waiting', () => {
      const s = h.status(uid);
      return s?.ephemeralContainerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError'
        ? s
        : undefined;
    });
    expect(st.ephemeralContainerStatuses?.[0]?.state?.waiting?.message).toBe(
      'unable to find target container nope',
    );
    expect(
      h.events.some(
        (e) => e.reason === 'Failed' && e.message === 'Error: unable to find target container nope',
      ),
    ).toBe(true);
  });
});
