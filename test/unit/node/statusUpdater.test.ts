import { describe, expect, it } from 'vitest';
import { ApiUnreachableError } from '../../../src/api/errors.js';
import type { EventRecorder, ObjectRef } from '../../../src/api/events.js';
import type { HostFacts } from '../../../src/host/types.js';
import { registerNode } from '../../../src/node/registration.js';
import { buildInitialNode, type NodeConfig, type RuntimeHealth } from '../../../src/node/setters.js';
import { NodeStatusUpdater } from '../../../src/node/statusUpdater.js';
import { FakeApi } from './fakeApi.js';

const facts: HostFacts = {
  hostname: 'n1',
  machineId: 'm',
  systemUuid: 'u',
  bootId: 'b',
  kernelVersion: 'k',
  osImage: 'os',
  operatingSystem: 'linux',
  architecture: 'amd64',
  cpuCores: 2,
  memoryBytes: 4 * 1024 ** 3,
  ephemeralStorageBytes: 20 * 1024 ** 3,
  hugepages: {},
  addresses: ['10.0.0.1'],
};
const config: NodeConfig = { nodeName: 'n1' };
const T0 = Date.parse('2026-01-01T00:00:00Z');

function recorder(): EventRecorder & { events: [ObjectRef, string, string, string][] } {
  const events: [ObjectRef, string, string, string][] = [];
  return { events, event: (ref, type, reason, message) => events.push([ref, type, reason, message]) };
}

async function setup() {
  const api = new FakeApi();
  let now = T0;
  let health: RuntimeHealth = { ready: true, message: '' };
  const rec = recorder();
  const statusInput = () => ({
    config,
    facts,
    runtime: { name: 'containerd', version: '1.7' },
    health,
    pressure: { memory: false, disk: false, pid: false },
    images: [],
    now,
  });
  await registerNode({ client: api, build: () => buildInitialNode(statusInput()), recorder: rec });
  const opts: ConstructorParameters<typeof NodeStatusUpdater>[0] = {
    client: api,
    config,
    facts,
    runtime: { name: 'containerd', version: '1.7' },
    runtimeHealth: () => health,
    pressure: () => ({ memory: false, disk: false, pid: false }),
    images: async () => [],
    recorder: rec,
    now: () => now,
    updateFrequencyMs: 50,
    jitterFactor: 0,
  };
  return {
    api,
    rec,
    opts,
    updater: new NodeStatusUpdater(opts),
    advance: (ms: number) => {
      now += ms;
    },
    setHealth: (h: RuntimeHealth) => {
      health = h;
    },
  };
}

describe('registerNode', () => {
  it('creates the node and records the initial pressure events', async () => {
    const { api, rec } = await setup();
    expect(api.nodes.get('n1')?.metadata?.uid).toBe('uid-n1');
    expect(rec.events.map((e) => e[2])).toEqual([
      'NodeHasSufficientMemory',
      'NodeHasNoDiskPressure',
      'NodeHasSufficientPID',
    ]);
    expect(rec.events[0]?.[0]).toEqual({ kind: 'Node', name: 'n1', uid: 'n1' });
  });

  it('reconciles an existing node and retries while the apiserver is unreachable', async () => {
    const api = new FakeApi();
    const build = () =>
      buildInitialNode({
        config,
        facts,
        runtime: { name: 'containerd', version: '1' },
        health: { ready: true, message: '' },
        pressure: { memory: false, disk: false, pid: false },
        now: T0,
      });
    const existing = build().node;
    existing.metadata = { name: 'n1', labels: { team: 'x' } };
    await api.create('/api/v1/nodes', existing);
    api.failNext.push(new ApiUnreachableError('ECONNREFUSED'), new ApiUnreachableError('ECONNREFUSED'));
    const node = await registerNode({ client: api, build, initialBackoffMs: 1, maxBackoffMs: 4 });
    expect(node.metadata?.uid).toBe('uid-n1');
    expect(node.metadata?.labels).toMatchObject({
      team: 'x',
      'kubernetes.io/hostname': 'n1',
      'kubernetes.io/os': 'linux',
    });
    expect(node.metadata?.annotations).toEqual({
      'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    });
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'POST', 'POST', 'POST', 'GET', 'PATCH']);
    expect(api.calls.at(-1)?.path).toBe('/api/v1/nodes/n1/status');
  });

  it('gives up when the signal aborts', async () => {
    const api = new FakeApi();
    for (let i = 0; i < 100; i++) api.failNext.push(new ApiUnreachableError('down'));
    const ac = new AbortController();
    const p = registerNode({
      client: api,
      build: () => ({ node: { metadata: { name: 'x' } }, events: [] }),
      signal: ac.signal,
      initialBackoffMs: 5,
    });
    setTimeout(() => ac.abort(), 30);
    await expect(p).rejects.toThrow(/abort/);
  });
});

describe('NodeStatusUpdater', () => {
  it('patches only when something but heartbeats changed, or when the report period passed', async () => {
    const { api, updater, advance } = await setup();
    // Same second as registration: the status read back is already what we would send.
    expect(await updater.sync()).toBe(false);
    advance(10_000);
    expect(await updater.sync()).toBe(false);
    advance(10_000);
    expect(await updater.sync()).toBe(false);
    expect(updater.stats).toMatchObject({ syncs: 3, gets: 3, patches: 0, skipped: 3 });
    advance(5 * 60_000);
    expect(await updater.sync()).toBe(true);
    expect(api.count('PATCH', '/status')).toBe(1);
    const ready = api.nodes.get('n1')?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.lastHeartbeatTime).toBe('2026-01-01T00:05:20Z');
    expect(ready?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('reports runtime health flips with NodeNotReady / NodeReady events', async () => {
    const { api, updater, advance, setHealth, rec } = await setup();
    await updater.sync();
    setHealth({ ready: false, message: 'container runtime is down' });
    advance(1000);
    expect(await updater.sync()).toBe(true);
    const ready = () => api.nodes.get('n1')?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready()).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime is down',
    });
    setHealth({ ready: true, message: '' });
    advance(1000);
    expect(await updater.sync()).toBe(true);
    expect(ready()).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(rec.events.map((e) => e[2]).slice(-2)).toEqual(['NodeNotReady', 'NodeReady']);
    expect(rec.events.at(-1)?.[3]).toBe('Node n1 status is now: NodeReady');
  });

  it('reads from the cache first, retries up to 5 times, then fails the cycle', async () => {
    const { api, updater, advance } = await setup();
    advance(1000);
    const before = api.calls.length;
    api.failNext.push(new ApiUnreachableError('a'), new ApiUnreachableError('b'));
    expect(await updater.sync()).toBe(true);
    const gets = api.calls.slice(before).filter((c) => c.method === 'GET');
    expect(gets.map((c) => c.query)).toEqual([{ resourceVersion: '0' }, undefined, undefined]);
    for (let i = 0; i < 5; i++) api.failNext.push(new ApiUnreachableError('down'));
    await expect(updater.sync()).rejects.toThrow('update node status exceeds retry count');
    expect(updater.stats.failedTries).toBe(7);
  });

  it('re-adds a missing os label', async () => {
    const { api, updater, advance } = await setup();
    await updater.sync();
    const n = api.nodes.get('n1');
    delete n?.metadata?.labels?.['kubernetes.io/os'];
    advance(1000);
    expect(await updater.sync()).toBe(true);
    expect(api.nodes.get('n1')?.metadata?.labels?.['kubernetes.io/os']).toBe('linux');
  });

  it('run() says Starting, loops, and updateNow() wakes it early', async () => {
    const { opts, rec } = await setup();
    const slow = new NodeStatusUpdater({ ...opts, updateFrequencyMs: 60_000 });
    const ac = new AbortController();
    const done = slow.run(ac.signal);
    await new Promise((r) => setTimeout(r, 30));
    expect(slow.stats.syncs).toBe(1);
    slow.updateNow();
    await new Promise((r) => setTimeout(r, 30));
    expect(slow.stats.syncs).toBe(2);
    ac.abort();
    await done;
    expect(rec.events.filter((e) => e[2] === 'Starting').map((e) => e[3])).toEqual(['Starting kubelet.']);
  });
});
