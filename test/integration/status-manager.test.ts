import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/api/errors.js';
import { RestClient } from '../../src/api/rest.js';
import type { Pod, PodStatus } from '../../src/api/types.js';
import { rfc3339 } from '../../src/api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../src/cri/runtimeState.js';
import { type GenerateInput, generatePodStatus } from '../../src/status/generate.js';
import { StatusManager } from '../../src/status/manager.js';
import { adminKubeConfig, eventually, images, nodeKubeConfig, uniqueName } from '../helpers/env.js';

// Drives the status manager against the real apiserver with node credentials, so the Node
// authorizer and NodeRestriction judge every request as they would a real kubelet's.

const NS = 'default';
const NODE_IPS = ['192.168.77.10'];
const nodeName = uniqueName('status-node');
const podPath = (name: string) => `/api/v1/namespaces/${NS}/pods/${name}`;

let admin: RestClient;
let asNode: RestClient;
const createdPods: string[] = [];

function runtimeContainer(
  pod: Pod,
  name: string,
  state: ContainerRuntimeStatus['state'],
  exitCode = 0,
): ContainerRuntimeStatus {
  const t = Date.now() - 5000;
  return {
    id: `${pod.metadata?.uid?.slice(0, 8)}${name}`.padEnd(64, '0'),
    name,
    podSandboxId: 'sandbox-1',
    state,
    createdAt: t,
    startedAt: t,
    finishedAt: state === 'exited' ? t + 1000 : 0,
    exitCode,
    reason: state === 'exited' ? (exitCode === 0 ? 'Completed' : 'Error') : '',
    message: '',
    image: images.busybox,
    imageRef: 'sha256:'.padEnd(71, 'a'),
    hash: '1',
    restartCount: 0,
    logPath: '',
    terminationLogPath: '',
    labels: {},
    annotations: {},
  };
}

function runtimeOf(pod: Pod, containers: ContainerRuntimeStatus[], ready = true): PodRuntimeStatus {
  const ips = ['10.88.0.42'];
  return {
    uid: pod.metadata?.uid ?? '',
    name: pod.metadata?.name ?? '',
    namespace: NS,
    sandboxes: [
      {
        id: 'sandbox-1',
        attempt: 0,
        ready,
        createdAt: Date.now() - 10_000,
        ips,
        hostNetwork: false,
        labels: {},
        annotations: {},
      },
    ],
    containers,
    ips,
    observedAt: Date.now(),
  };
}

function generate(
  pod: Pod,
  runtime: PodRuntimeStatus,
  previous: PodStatus | undefined,
  extra: Partial<GenerateInput> = {},
) {
  return generatePodStatus({
    pod,
    runtime,
    previous,
    nodeIPs: NODE_IPS,
    now: Date.now(),
    runtimeName: 'containerd',
    startFailures: new Map(),
    probes: { started: () => undefined, ready: () => undefined },
    terminationMessages: new Map(),
    podIsTerminal: false,
    sandboxReady: runtime.sandboxes[0]?.ready ?? false,
    ...extra,
  });
}

/** A pod bound to the test node; `full` adds what real pods carry: a token mount and resources. */
async function createPod(prefix: string, full = false): Promise<Pod> {
  const name = uniqueName(prefix);
  createdPods.push(name);
  const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } };
  return admin.create<Pod>(`/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName,
      automountServiceAccountToken: full,
      terminationGracePeriodSeconds: 30,
      containers: [
        { name: 'a', image: images.busybox, ...(full ? { resources } : {}) },
        { name: 'b', image: images.busybox },
      ],
    },
  });
}

const getPod = (name: string) => admin.get<Pod>(podPath(name));

beforeAll(async () => {
  admin = await RestClient.fromKubeConfig(adminKubeConfig());
  asNode = await RestClient.fromKubeConfig(nodeKubeConfig(nodeName));
  await asNode.create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' } },
  });
  await eventually('the default service account', async () =>
    (await admin.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`).catch(() => undefined))
      ? true
      : undefined,
  );
});

afterAll(async () => {
  for (const name of createdPods) {
    await admin
      .delete(podPath(name), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })
      .catch(() => {});
  }
  await admin.delete(`/api/v1/nodes/${nodeName}`).catch(() => {});
  admin?.close();
  asNode?.close();
});

describe('status manager against the apiserver', () => {
  it('patches generated statuses, keeps foreign conditions, skips unchanged ones and coalesces bursts', async () => {
    const created = await createPod('status-run', true);
    const name = created.metadata?.name ?? '';
    // Another controller owns this condition; the kubelet must leave it alone.
    await admin.patch(
      `${podPath(name)}/status`,
      {
        status: {
          conditions: [{ type: 'example.com/gate', status: 'True', lastTransitionTime: rfc3339(Date.now()) }],
        },
      },
      'strategic',
    );
    const apiPod = await getPod(name);
    const manager = new StatusManager({ client: asNode, reconcileIntervalMs: 300 });
    const ac = new AbortController();
    const loop = manager.run(ac.signal);
    try {
      // As the pod worker does: a status before the containers start, then one with them running.
      // Both are stored before the loop gets to run, so one patch carries the newest.
      const uid0 = apiPod.metadata?.uid ?? '';
      expect(manager.setPodStatus(apiPod, generate(apiPod, runtimeOf(apiPod, []), undefined))).toBe(true);
      const running = runtimeOf(apiPod, [
        runtimeContainer(apiPod, 'a', 'running'),
        runtimeContainer(apiPod, 'b', 'running'),
      ]);
      const s1 = generate(apiPod, running, manager.getPodStatus(uid0));
      expect(manager.setPodStatus(apiPod, s1)).toBe(true);

      const seen = await eventually('phase Running in the API', async () => {
        const p = await getPod(name);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      const st = seen.status ?? {};
      expect(st.podIP).toBe('10.88.0.42');
      expect(st.podIPs).toEqual([{ ip: '10.88.0.42' }]);
      expect(st.hostIP).toBe('192.168.77.10');
      expect(st.observedGeneration).toBe(seen.metadata?.generation);
      expect(st.conditions?.map((c) => [c.type, c.status])).toEqual([
        ['example.com/gate', 'True'],
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ]);
      expect(
        st.containerStatuses?.map((c) => [
          c.name,
          c.ready,
          c.started,
          c.containerID?.startsWith('containerd://'),
        ]),
      ).toEqual([
        ['a', true, true, true],
        ['b', true, true, true],
      ]);
      expect(st.qosClass).toBe('Burstable');
      expect(st.containerStatuses?.[0]?.volumeMounts?.[0]).toMatchObject({
        readOnly: true,
        recursiveReadOnly: 'Disabled',
      });
      expect(st.containerStatuses?.[0]?.allocatedResources).toEqual({ cpu: '100m', memory: '64Mi' });
      expect(manager.metrics.patches).toBe(1);

      // The same content again: no new version, and reconciles find nothing to send.
      expect(
        manager.setPodStatus(seen, generate(seen, running, manager.getPodStatus(seen.metadata?.uid ?? ''))),
      ).toBe(false);
      await new Promise((r) => setTimeout(r, 1200));
      expect(manager.metrics.patches).toBe(1);
      expect(manager.metrics.errors).toBe(0);

      // Container b failed: containerStatuses are replaced, conditions merged, the gate kept.
      const uid = seen.metadata?.uid ?? '';
      const crashed = runtimeOf(seen, [
        runtimeContainer(seen, 'a', 'running'),
        runtimeContainer(seen, 'b', 'exited', 2),
      ]);
      const s2 = generate(seen, crashed, manager.getPodStatus(uid));
      // a burst of statuses before the loop runs: only the newest one is sent
      manager.setPodStatus(seen, generate(seen, running, s2));
      manager.setPodStatus(seen, s2);
      const after = await eventually('container b terminated in the API', async () => {
        const p = await getPod(name);
        const b = p.status?.containerStatuses?.find((c) => c.name === 'b');
        return b?.state?.terminated ? p : undefined;
      });
      expect(manager.metrics.patches).toBe(2);
      const b = after.status?.containerStatuses?.find((c) => c.name === 'b');
      expect(b?.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
      expect(after.status?.conditions?.find((c) => c.type === 'example.com/gate')?.status).toBe('True');
      expect(after.status?.conditions?.find((c) => c.type === 'ContainersReady')).toMatchObject({
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [b]',
      });
      expect(after.status?.phase).toBe('Running');
    } finally {
      ac.abort();
      await loop;
    }
  });

  it('deletes a gracefully deleted pod once its status is terminal and the worker finished', async () => {
    const created = await createPod('status-del');
    const name = created.metadata?.name ?? '';
    const uid = created.metadata?.uid ?? '';
    const manager = new StatusManager({ client: asNode, reconcileIntervalMs: 500 });
    const ac = new AbortController();
    const loop = manager.run(ac.signal);
    try {
      const running = runtimeOf(created, [
        runtimeContainer(created, 'a', 'running'),
        runtimeContainer(created, 'b', 'running'),
      ]);
      manager.setPodStatus(created, generate(created, running, undefined));
      await eventually('phase Running', async () =>
        (await getPod(name)).status?.phase === 'Running' ? true : undefined,
      );

      await admin.delete(podPath(name), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 30 });
      const deleting = await getPod(name);
      expect(deleting.metadata?.deletionTimestamp).toBeDefined();

      // The pod worker stopped everything and finalises the pod.
      const stopped = runtimeOf(
        deleting,
        [runtimeContainer(deleting, 'a', 'exited', 0), runtimeContainer(deleting, 'b', 'exited', 0)],
        false,
      );
      const final = generate(deleting, stopped, manager.getPodStatus(uid), { podIsTerminal: true });
      expect(final.phase).toBe('Succeeded');
      manager.setPodStatus(deleting, final);
      manager.terminatePod(deleting);

      await eventually('the pod to be deleted', async () => {
        try {
          await getPod(name);
          return undefined;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      });
      expect(manager.metrics.deletes).toBe(1);
      expect(manager.getPodStatus(uid)).toBeUndefined();
    } finally {
      ac.abort();
      await loop;
    }
  });

  it('skips pods that are gone, without throwing', async () => {
    const created = await createPod('status-gone');
    const name = created.metadata?.name ?? '';
    await admin.delete(podPath(name), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    await eventually('the pod to disappear', async () => {
      try {
        await getPod(name);
        return undefined;
      } catch (err) {
        return isNotFound(err) ? true : undefined;
      }
    });
    const manager = new StatusManager({ client: asNode });
    const running = runtimeOf(created, [
      runtimeContainer(created, 'a', 'running'),
      runtimeContainer(created, 'b', 'running'),
    ]);
    manager.setPodStatus(created, generate(created, running, undefined));
    await expect(manager.syncPending()).resolves.toBeUndefined();
    // With the watch copy as the patch base, the PATCH itself is refused (the Node authorizer
    // answers 403 for a pod no longer bound to the node): logged as an error, retried later.
    expect(manager.metrics).toMatchObject({ syncs: 1, deletes: 0, errors: 1 });
    manager.removeOrphanedStatuses([]);
    expect(manager.getPodStatus(created.metadata?.uid ?? '')).toBeUndefined();
  });
});
