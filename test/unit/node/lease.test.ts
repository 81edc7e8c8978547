import { describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError } from '../../../src/api/errors.js';
import { NodeLeaseController } from '../../../src/node/lease.js';
import { FakeApi } from './fakeApi.js';

const T0 = Date.parse('2026-01-01T00:00:00.123Z');
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

function setup(nodeUid?: string) {
  const api = new FakeApi();
  let now = T0;
  const lease = new NodeLeaseController({
    client: api,
    nodeName: 'n1',
    nodeUid,
    now: () => now,
    initialBackoffMs: 1,
    maxBackoffMs: 4,
  });
  return {
    api,
    lease,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('NodeLeaseController', () => {
  it('creates the Lease with holder, duration, MicroTime renewTime and the Node as owner', async () => {
    const { api, lease } = setup('uid-123');
    await lease.sync();
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET ${LEASES}/n1`, `POST ${LEASES}`]);
    const l = api.leases.get('n1');
    expect(l?.metadata).toMatchObject({
      name: 'n1',
      namespace: 'kube-node-lease',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-123' }],
    });
    expect(l?.spec).toEqual({
      holderIdentity: 'n1',
      leaseDurationSeconds: 40,
      renewTime: '2026-01-01T00:00:00.123000Z',
    });
  });

  it('renews by PUT of the last returned Lease, without reading it', async () => {
    const { api, lease, advance } = setup('uid-123');
    await lease.sync();
    advance(10_000);
    await lease.sync();
    advance(10_000);
    await lease.sync();
    expect(api.calls.map((c) => c.method)).toEqual(['GET', 'POST', 'PUT', 'PUT']);
    expect(api.leases.get('n1')?.spec?.renewTime).toBe('2026-01-01T00:00:20.123000Z');
    expect(lease.latest?.metadata?.resourceVersion).toBe(api.leases.get('n1')?.metadata?.resourceVersion);
  });

  it('on a conflict re-reads the Lease and retries', async () => {
    const { api, lease, advance } = setup('uid-123');
    await lease.sync();
    // Someone else wrote the Lease: our resourceVersion is stale.
    const cur = api.leases.get('n1');
    if (cur?.metadata) cur.metadata.resourceVersion = '999';
    advance(10_000);
    await lease.sync();
    expect(api.calls.slice(2).map((c) => c.method)).toEqual(['PUT', 'GET', 'PUT']);
    expect(lease.stats.conflicts).toBe(1);
    expect(api.leases.get('n1')?.spec?.renewTime).toBe('2026-01-01T00:00:10.123000Z');
  });

  it('gives up a renewal after 5 failed updates, then falls back to ensure', async () => {
    const { api, lease, advance } = setup('uid-123');
    await lease.sync();
    advance(10_000);
    for (let i = 0; i < 5; i++) api.failNext.push(new ApiError(500, 'InternalError', 'etcd'));
    await lease.sync();
    expect(api.calls.slice(2).map((c) => c.method)).toEqual([
      'PUT',
      'PUT',
      'PUT',
      'PUT',
      'PUT',
      'GET',
      'PUT',
    ]);
  });

  it('reads the Node uid when not given, and waits for the Node before creating', async () => {
    const { api, lease } = setup();
    await lease.sync();
    expect(api.leases.size).toBe(0);
    await api.create('/api/v1/nodes', { metadata: { name: 'n1' } });
    await lease.sync();
    expect(api.leases.get('n1')?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-n1');
  });

  it('backs off while the apiserver is unreachable', async () => {
    const { api, lease } = setup('u');
    api.failNext.push(new ApiUnreachableError('down'), new ApiUnreachableError('down'));
    await lease.sync();
    expect(api.calls.map((c) => c.method)).toEqual(['GET', 'GET', 'GET', 'POST']);
    expect(api.leases.has('n1')).toBe(true);
  });

  it('run() renews on its interval until aborted', async () => {
    const api = new FakeApi();
    const lease = new NodeLeaseController({ client: api, nodeName: 'n1', nodeUid: 'u', renewIntervalMs: 10 });
    const ac = new AbortController();
    const done = lease.run(ac.signal);
    await new Promise((r) => setTimeout(r, 80));
    ac.abort();
    await done;
    expect(lease.stats.creates).toBe(1);
    expect(lease.stats.updates).toBeGreaterThanOrEqual(2);
  });
});
