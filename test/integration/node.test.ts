import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeEventRecorder, nodeRef, restEventSink } from '../../src/api/events.js';
import { RestClient } from '../../src/api/rest.js';
import type { Event, Lease, Node, NodeCondition, ObjectList } from '../../src/api/types.js';
import type { HostFacts } from '../../src/host/types.js';
import type { NodeApiClient } from '../../src/node/client.js';
import { NodeLeaseController } from '../../src/node/lease.js';
import { registerNode } from '../../src/node/registration.js';
import {
  buildInitialNode,
  DEFAULT_EVICTION_HARD,
  type NodeConfig,
  type NodeStatusInput,
  type RuntimeHealth,
} from '../../src/node/setters.js';
import { NodeStatusUpdater } from '../../src/node/statusUpdater.js';
import { adminKubeConfig, eventually, nodeKubeConfig, uniqueName } from '../helpers/env.js';

// A node registered, reported and heartbeated with node credentials, so the Node authorizer and
// NodeRestriction judge every request exactly as they would a real kubelet's.

const nodeName = uniqueName('kts-node');
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`;
const Gi = 1024 ** 3;

const facts: HostFacts = {
  hostname: nodeName.toUpperCase(),
  machineId: '0123456789abcdef0123456789abcdef',
  systemUuid: '4c4c4544-0000-1000-8000-000000000000',
  bootId: 'b00710d0-0000-4000-8000-000000000001',
  kernelVersion: '6.1.0-test',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  cpuCores: 4,
  memoryBytes: 16393016 * 1024,
  ephemeralStorageBytes: 100 * Gi,
  hugepages: { '2Mi': 0, '1Gi': 0 },
  addresses: ['10.250.0.17'],
};

const config: NodeConfig = {
  nodeName,
  kubeReserved: { cpuMillis: 100, memoryBytes: 256 * 1024 * 1024 },
  evictionHard: DEFAULT_EVICTION_HARD,
  // Keep other tests' pods off this node: it runs no containers.
  registerWithTaints: [{ key: 'example.com/no-pods', value: 'true', effect: 'NoSchedule' }],
  kubeletVersion: 'v1.37.2',
};

let admin: RestClient;
let client: RestClient;
let counting: NodeApiClient;
const statusPatches: string[] = [];
let health: RuntimeHealth = { ready: true, message: '' };
let recorder: KubeEventRecorder;
let updater: NodeStatusUpdater;
let lease: NodeLeaseController;
let registered: Node;
const stop = new AbortController();
const running: Promise<void>[] = [];

const statusInput = (): NodeStatusInput => ({
  config,
  facts,
  runtime: { name: 'containerd', version: '1.6.20~ds1' },
  health,
  pressure: { memory: false, disk: false, pid: false },
  images: [{ names: ['localhost:5999/kubelet-ts/busybox:1.36'], sizeBytes: 2_000_000 }],
  now: Date.now(),
});

const getNode = () => admin.get<Node>(`/api/v1/nodes/${nodeName}`);
const condition = (n: Node, type: string): NodeCondition | undefined =>
  n.status?.conditions?.find((c) => c.type === type);

async function nodeEvents(): Promise<Event[]> {
  const list = await admin.get<ObjectList<Event>>('/api/v1/namespaces/default/events', {
    query: { fieldSelector: `involvedObject.name=${nodeName}` },
  });
  return list.items;
}

beforeAll(async () => {
  admin = await RestClient.fromKubeConfig(adminKubeConfig());
  client = await RestClient.fromKubeConfig(nodeKubeConfig(nodeName));
  counting = {
    get: (p, o) => client.get(p, o),
    create: (p, b, o) => client.create(p, b, o),
    replace: (p, b, o) => client.replace(p, b, o),
    patch: (p, b, t, o) => {
      if (p.endsWith('/status')) statusPatches.push(JSON.stringify(b));
      return client.patch(p, b, t, o);
    },
  };
  recorder = new KubeEventRecorder({ sink: restEventSink(client), nodeName, signal: stop.signal });
  registered = await registerNode({
    client: counting,
    build: () => buildInitialNode(statusInput()),
    recorder,
    signal: stop.signal,
  });
  updater = new NodeStatusUpdater({
    client: counting,
    config,
    facts,
    runtime: { name: 'containerd', version: '1.6.20~ds1' },
    runtimeHealth: () => health,
    pressure: () => ({ memory: false, disk: false, pid: false }),
    images: async () => statusInput().images ?? [],
    recorder,
    updateFrequencyMs: 200,
    jitterFactor: 0.04,
  });
  lease = new NodeLeaseController({
    client: counting,
    nodeName,
    nodeUid: registered.metadata?.uid,
    renewIntervalMs: 200,
  });
  running.push(updater.run(stop.signal), lease.run(stop.signal));
});

afterAll(async () => {
  stop.abort();
  await Promise.all(running);
  await admin.delete(leasePath).catch(() => {});
  await admin.delete(`/api/v1/nodes/${nodeName}`).catch(() => {});
  await admin
    .delete('/api/v1/namespaces/default/events', undefined, {
      query: { fieldSelector: `involvedObject.name=${nodeName}` },
    })
    .catch(() => {});
  admin?.close();
  client?.close();
});

describe('node registration, status and lease against the real apiserver', () => {
  it('registers the Node with labels, annotation, taints, capacity, allocatable and nodeInfo', async () => {
    expect(registered.metadata?.uid).toBeTruthy();
    const n = await getNode();
    expect(n.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
    expect(n.metadata?.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach']).toBe('true');
    expect(n.spec?.taints).toContainEqual({
      key: 'example.com/no-pods',
      value: 'true',
      effect: 'NoSchedule',
    });
    // What the apiserver stores is exactly what we computed: our quantities are canonical.
    expect(n.status?.capacity).toEqual({
      cpu: '4',
      memory: '16393016Ki',
      pods: '110',
      'ephemeral-storage': '100Gi',
      'hugepages-2Mi': '0',
      'hugepages-1Gi': '0',
    });
    expect(n.status?.allocatable).toEqual({
      cpu: '3900m',
      // 16393016Ki − 256Mi − 100Mi
      memory: '16028472Ki',
      pods: '110',
      // 100Gi − trunc(100Gi × float32(0.1)): no multiple of 1024, stored as DecimalSI
      'ephemeral-storage': '96636764k',
      'hugepages-2Mi': '0',
      'hugepages-1Gi': '0',
    });
    expect(n.status?.nodeInfo).toMatchObject({
      machineID: facts.machineId,
      systemUUID: facts.systemUuid,
      bootID: facts.bootId,
      kernelVersion: '6.1.0-test',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.6.20~ds1',
      kubeletVersion: 'v1.37.2',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(n.status?.nodeInfo?.kubeProxyVersion ?? '').toBe('');
    expect(n.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.250.0.17' },
      { type: 'Hostname', address: nodeName },
    ]);
    expect(n.status?.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(n.status?.images).toEqual([
      { names: ['localhost:5999/kubelet-ts/busybox:1.36'], sizeBytes: 2_000_000 },
    ]);
    expect(n.status?.conditions?.map((c) => c.type).slice(0, 4)).toEqual([
      'MemoryPressure',
      'DiskPressure',
      'PIDPressure',
      'Ready',
    ]);
    expect(condition(n, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    });
    expect(condition(n, 'MemoryPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
      message: 'kubelet has sufficient memory available',
    });
  });

  it('does not patch the status every cycle when nothing changed', async () => {
    await eventually('a few status cycles', async () => (updater.stats.syncs >= 2 ? true : undefined));
    const before = { patches: statusPatches.length, syncs: updater.stats.syncs };
    await eventually('six more cycles', async () =>
      updater.stats.syncs >= before.syncs + 6 ? true : undefined,
    );
    expect(statusPatches.length).toBe(before.patches);
    expect(updater.stats.skipped).toBeGreaterThanOrEqual(6);
  });

  it('keeps a Lease in kube-node-lease that it renews, owned by the Node', async () => {
    const first = await eventually('the node lease', () =>
      admin.get<Lease>(leasePath).catch(() => undefined),
    );
    expect(first.spec?.holderIdentity).toBe(nodeName);
    expect(first.spec?.leaseDurationSeconds).toBe(40);
    expect(first.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: registered.metadata?.uid },
    ]);
    expect(first.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const t0 = Date.parse(first.spec?.renewTime ?? '');
    expect(Math.abs(Date.now() - t0)).toBeLessThan(10_000);
    await eventually('the lease to be renewed', async () => {
      const l = await admin.get<Lease>(leasePath);
      return Date.parse(l.spec?.renewTime ?? '') > t0 ? true : undefined;
    });
    expect(lease.stats.updates).toBeGreaterThan(0);
  });

  it('goes NotReady with the runtime message when the runtime is down, and back', async () => {
    health = {
      ready: false,
      message:
        'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized',
    };
    updater.updateNow();
    const down = await eventually('Ready=False', async () => {
      const c = condition(await getNode(), 'Ready');
      return c?.status === 'False' ? c : undefined;
    });
    expect(down).toMatchObject({ reason: 'KubeletNotReady', message: health.message });

    health = { ready: true, message: '' };
    updater.updateNow();
    const up = await eventually('Ready=True again', async () => {
      const c = condition(await getNode(), 'Ready');
      return c?.status === 'True' ? c : undefined;
    });
    expect(up).toMatchObject({ reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(Date.parse(up.lastTransitionTime ?? '')).toBeGreaterThanOrEqual(
      Date.parse(down.lastTransitionTime ?? ''),
    );
  });

  it('records node events in namespace default: Starting, pressure, NodeNotReady, NodeReady', async () => {
    await recorder.flush();
    const events = await eventually('node events', async () => {
      const evs = await nodeEvents();
      const reasons = new Set(evs.map((e) => e.reason));
      return ['Starting', 'NodeHasSufficientMemory', 'NodeNotReady', 'NodeReady'].every((r) => reasons.has(r))
        ? evs
        : undefined;
    });
    const starting = events.find((e) => e.reason === 'Starting');
    expect(starting).toMatchObject({
      type: 'Normal',
      message: 'Starting kubelet.',
      involvedObject: { kind: 'Node', name: nodeName, uid: nodeName },
      source: { component: 'kubelet', host: nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: nodeName,
      count: 1,
    });
    expect(events.find((e) => e.reason === 'NodeReady')?.message).toBe(
      `Node ${nodeName} status is now: NodeReady`,
    );
  });

  it('folds a repeated event into one with a count', async () => {
    for (let i = 0; i < 3; i++)
      recorder.event(nodeRef(nodeName), 'Warning', 'TestRepeat', 'same thing again');
    await recorder.flush();
    const evs = (await nodeEvents()).filter((e) => e.reason === 'TestRepeat');
    expect(evs).toHaveLength(1);
    expect(evs[0]?.count).toBe(3);
  });

  it('re-registration reconciles the labels and annotation it owns', async () => {
    await admin.patch(
      `/api/v1/nodes/${nodeName}`,
      {
        metadata: {
          labels: { 'kubernetes.io/hostname': 'wrong', 'example.com/team': 'kept' },
          annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': null },
        },
      },
      'strategic',
    );
    const again = await registerNode({ client: counting, build: () => buildInitialNode(statusInput()) });
    expect(again.metadata?.uid).toBe(registered.metadata?.uid);
    const n = await getNode();
    expect(n.metadata?.labels?.['kubernetes.io/hostname']).toBe(nodeName);
    expect(n.metadata?.labels?.['example.com/team']).toBe('kept');
    expect(n.metadata?.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach']).toBe('true');
  });
});
