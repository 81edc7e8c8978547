import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// The sync core against a misbehaving runtime (the CRI mock's fault injection): failing calls,
// stalls, a failing CreateContainer. Nothing crashes, running containers are left alone, pods
// created meanwhile start once the runtime behaves, and failures show as typed reasons.

const UNAVAILABLE = 14;
const UNKNOWN = 2;

let mock: CriMock;
let h: KubeletHarness;

beforeEach(async () => {
  mock = await CriMock.start({ journalLimit: 100_000 });
  h = await KubeletHarness.start(mock.endpoint);
});
afterEach(async () => {
  mock.faults.clear();
  await h.stop();
  await mock.stop();
});

const uid = (p: Pod) => p.metadata?.uid ?? '';
const containerId = (p: Pod) => h.status(uid(p))?.containerStatuses?.[0]?.containerID;
const running = (p: Pod) => h.status(uid(p))?.containerStatuses?.[0]?.state?.running !== undefined;
const creates = (p: Pod) =>
  mock.calls('CreateContainer').filter((c) => c.sandboxConfig?.metadata?.uid === uid(p)).length;

async function allRunning(pods: Pod[], timeoutMs = 20_000): Promise<void> {
  await h.waitFor(`${pods.length} pods running`, () => pods.every(running), timeoutMs);
}

describe('a misbehaving runtime', () => {
  it('half of all calls fail for 3 s: running containers stay, new pods start afterwards', async () => {
    const steady = Array.from({ length: 5 }, (_, i) => testPod(`steady-${i}`));
    for (const p of steady) h.update(p);
    await allRunning(steady);
    const ids = steady.map(containerId);

    const remove = mock.faults.inject({
      method: '*',
      code: UNAVAILABLE,
      errorRate: 0.5,
      message: 'runtime flaking',
    });
    const late = [testPod('late-0'), testPod('late-1')];
    for (const p of late) h.update(p);
    await new Promise((r) => setTimeout(r, 3_000));
    remove();

    await allRunning([...steady, ...late], 30_000);
    expect(steady.map(containerId)).toEqual(ids);
    expect(steady.map(creates)).toEqual(steady.map(() => 1));
    expect(steady.map((p) => h.status(uid(p))?.containerStatuses?.[0]?.restartCount)).toEqual(
      steady.map(() => 0),
    );
  }, 60_000);

  it('every call fails for 3 s (runtime down): no container is reported terminated, all recover', async () => {
    const steady = Array.from({ length: 3 }, (_, i) => testPod(`down-${i}`));
    for (const p of steady) h.update(p);
    await allRunning(steady);
    const ids = steady.map(containerId);

    const remove = mock.faults.inject({ method: '*', code: UNAVAILABLE, message: 'connection refused' });
    const seen = new Set<string>();
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      for (const p of steady) {
        const st = h.status(uid(p))?.containerStatuses?.[0]?.state;
        seen.add(st?.running ? 'running' : JSON.stringify(st));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    remove();
    expect([...seen]).toEqual(['running']);
    await allRunning(steady);
    expect(steady.map(containerId)).toEqual(ids);
  }, 60_000);

  it('list calls stall 2 s each for a while: the kubelet keeps up and starts a pod created meanwhile', async () => {
    const a = testPod('stall-a');
    h.update(a);
    await allRunning([a]);
    const remove = mock.faults.inject({ method: 'ListContainers', latencyMs: 2_000, times: 3 });
    const b = testPod('stall-b');
    h.update(b);
    await allRunning([a, b], 30_000);
    remove();
    expect(creates(a)).toBe(1);
  }, 60_000);

  it('CreateContainer fails once: CreateContainerError with the runtime message, then Running', async () => {
    const remove = mock.faults.inject({
      method: 'CreateContainer',
      code: UNKNOWN,
      message: 'failed to create containerd container: boom',
      times: 1,
    });
    const p = testPod('create-fails');
    h.update(p);
    const w = await h.waitFor('CreateContainerError', () => {
      const s = h.status(uid(p))?.containerStatuses?.[0]?.state?.waiting;
      return s?.reason === 'CreateContainerError' ? s : undefined;
    });
    expect(w.message).toContain('boom');
    remove();
    await allRunning([p], 30_000);
    expect(
      h.events.some((e) => e.ref.uid === uid(p) && e.reason === 'Failed' && e.message.includes('boom')),
    ).toBe(true);
  }, 60_000);
});
