import { describe, expect, it } from 'vitest';
import { ApiUnreachableError } from '../../../src/api/errors.js';
import type { PodStatus } from '../../../src/api/types.js';
import { generatePodStatus } from '../../../src/status/generate.js';
import { type StatusApi, StatusManager } from '../../../src/status/manager.js';
import { input, NOW, NOW_S, pod, rc, runtime, statusOf, T0_S, UID } from './fixtures.js';

/** A client for the parts that must not talk to the apiserver: every call fails. */
function unreachable(): StatusApi & { calls: number } {
  const fail = () => {
    client.calls++;
    return Promise.reject(new ApiUnreachableError('connect ECONNREFUSED'));
  };
  const client = { calls: 0, get: fail, patch: fail, delete: fail };
  return client;
}

const manager = (client: StatusApi = unreachable()) => new StatusManager({ client, now: () => NOW });

describe('StatusManager cache', () => {
  it('stores a new version only when kubelet-owned content changes', () => {
    const m = manager();
    const p = pod();
    const s = generatePodStatus(input(p));
    expect(m.setPodStatus(p, s)).toBe(true);
    expect(
      m.setPodStatus(p, { ...s, conditions: s.conditions?.map((c) => ({ ...c, lastTransitionTime: T0_S })) }),
    ).toBe(false);
    const running = generatePodStatus(
      input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }),
    );
    expect(m.setPodStatus(p, running)).toBe(true);
    expect(m.getPodStatus(UID)?.phase).toBe('Running');
  });

  it('always stores a status for a pod being deleted', () => {
    const m = manager();
    const p = pod({}, { meta: { deletionTimestamp: T0_S } });
    const s = generatePodStatus(input(p));
    expect(m.setPodStatus(p, s)).toBe(true);
    expect(m.setPodStatus(p, s)).toBe(true);
  });

  it('sets startTime once and observedGeneration from the pod', () => {
    const m = manager();
    const p = pod();
    m.setPodStatus(p, { phase: 'Pending' });
    expect(m.getPodStatus(UID)).toMatchObject({ startTime: NOW_S, observedGeneration: 3 });
    m.setPodStatus(p, { phase: 'Running', startTime: '2030-01-01T00:00:00Z' });
    expect(m.getPodStatus(UID)?.startTime).toBe(NOW_S);
  });

  it('drops an illegal transition out of a terminated state', () => {
    const m = manager();
    const p = pod({ restartPolicy: 'Never' });
    const done = generatePodStatus(input(p, { runtime: runtime([rc('a', 'exited'), rc('b', 'exited')]) }));
    expect(m.setPodStatus(p, done)).toBe(true);
    const back = generatePodStatus(input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) }));
    expect(m.setPodStatus(p, back)).toBe(false);
    expect(m.getPodStatus(UID)?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
  });

  it('terminatePod marks unknown containers and fails a running pod', () => {
    const m = manager();
    const p = pod();
    m.setPodStatus(
      p,
      generatePodStatus(input(p, { runtime: runtime([rc('a', 'running'), rc('b', 'running')]) })),
    );
    m.terminatePod(p);
    const s = m.getPodStatus(UID) as PodStatus;
    expect(s.phase).toBe('Failed');
    expect(statusOf(s, 'a')?.state?.terminated?.reason).toBe('ContainerStatusUnknown');
  });

  it('forgets pods that are gone', () => {
    const m = manager();
    m.setPodStatus(pod(), { phase: 'Pending' });
    m.removeOrphanedStatuses(['other']);
    expect(m.getPodStatus(UID)).toBeUndefined();
  });
});

describe('StatusManager sync loop', () => {
  it('logs and counts API failures, never throws, and stops on abort', async () => {
    const client = unreachable();
    const m = new StatusManager({ client, reconcileIntervalMs: 20 });
    m.setPodStatus(pod(), { phase: 'Pending' });
    const ac = new AbortController();
    const loop = m.run(ac.signal);
    await new Promise((r) => setTimeout(r, 120));
    ac.abort();
    await expect(loop).resolves.toBeUndefined();
    expect(client.calls).toBeGreaterThan(1);
    expect(m.metrics.errors).toBe(client.calls);
    expect(m.metrics.patches).toBe(0);
  });
});
