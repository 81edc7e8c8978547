import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { type StatusApi, StatusManager } from '../../../src/status/manager.js';
import { NOW, pod } from './fixtures.js';

// upstream status manager: a static pod's status is written to its mirror pod (TranslatePodUID),
// with the mirror's UID as the patch precondition; without a mirror pod nothing is written yet
// ("Static pod does not have a corresponding mirror pod; skipping"), and a mirror pod is never
// deleted by the status manager.

const staticPod = (): Pod =>
  pod(
    {},
    {
      meta: { annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': 'uid-1' } },
    },
  );

function fakeApi(mirrorUid: string) {
  const calls: { verb: string; path: string; body?: unknown }[] = [];
  const mirror: Pod = {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: mirrorUid,
      resourceVersion: '7',
      annotations: { 'kubernetes.io/config.mirror': 'uid-1' },
    },
    spec: staticPod().spec,
    status: { phase: 'Pending' },
  };
  const client: StatusApi = {
    get: async <T>(path: string) => {
      calls.push({ verb: 'GET', path });
      return mirror as T;
    },
    patch: async <T>(path: string, body: unknown) => {
      calls.push({ verb: 'PATCH', path, body });
      return { ...mirror, status: (body as Pod).status } as T;
    },
    delete: async <T>(path: string) => {
      calls.push({ verb: 'DELETE', path });
      return {} as T;
    },
  };
  return { client, calls };
}

describe('StatusManager and static pods', () => {
  it('writes nothing while the static pod has no mirror pod', async () => {
    const { client, calls } = fakeApi('mirror-uid');
    const m = new StatusManager({ client, now: () => NOW, mirrorUidOf: () => undefined });
    m.setPodStatus(staticPod(), { phase: 'Running' });
    await m.syncPending();
    await m.syncBatch();
    expect(calls).toEqual([]);
  });

  it("patches the mirror pod's status with the mirror's UID as precondition, and never deletes it", async () => {
    const { client, calls } = fakeApi('mirror-uid');
    const m = new StatusManager({ client, now: () => NOW, mirrorUidOf: () => 'mirror-uid' });
    m.setPodStatus(staticPod(), { phase: 'Running' });
    m.terminatePod(staticPod());
    await m.syncPending();
    const patch = calls.find((c) => c.verb === 'PATCH');
    expect(patch?.path).toBe('/api/v1/namespaces/ns/pods/p/status');
    expect((patch?.body as Pod | undefined)?.metadata?.uid).toBe('mirror-uid');
    expect(calls.some((c) => c.verb === 'DELETE')).toBe(false);
  });

  it('leaves a mirror pod that is being replaced alone (another UID than expected)', async () => {
    const { client, calls } = fakeApi('old-mirror');
    const m = new StatusManager({ client, now: () => NOW, mirrorUidOf: () => 'new-mirror' });
    m.setPodStatus(staticPod(), { phase: 'Running' });
    await m.syncPending();
    expect(calls.map((c) => c.verb)).toEqual(['GET']);
    // The status is kept for the next pass.
    expect(m.getPodStatus(staticPod().metadata?.uid ?? '')?.phase).toBe('Running');
  });
});
