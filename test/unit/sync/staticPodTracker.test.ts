import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import type { MirrorPods } from '../../../src/sync/mirrorPods.js';
import type { WorkerState } from '../../../src/sync/podWorkers.js';
import { StaticPodTracker } from '../../../src/sync/staticPodTracker.js';

const staticPod = (uid: string, name = 'etcd-n1'): Pod => ({
  metadata: {
    name,
    namespace: 'kube-system',
    uid,
    annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': uid },
  },
  spec: { containers: [] },
});

function setup() {
  const states = new Map<string, WorkerState>();
  let pods: Pod[] = [];
  let mirrors: Pod[] = [];
  const started: string[] = [];
  const reconciled: string[] = [];
  const orphanCalls: string[][] = [];
  const fakeMirrors = {
    reconcile: (p: Pod) => reconciled.push(p.metadata?.uid ?? ''),
    deleteOrphans: (keep: ReadonlySet<string>, ms: readonly Pod[]) =>
      orphanCalls.push(
        ms
          .filter((m) => !keep.has(`${m.metadata?.name}_${m.metadata?.namespace}`))
          .map((m) => m.metadata?.uid ?? ''),
      ),
  } as unknown as MirrorPods;
  const t = new StaticPodTracker({
    state: (uid) => states.get(uid),
    pods: () => pods,
    mirrorPods: () => mirrors,
    start: (p) => {
      started.push(p.metadata?.uid ?? '');
      states.set(p.metadata?.uid ?? '', 'sync');
    },
    mirrors: fakeMirrors,
  });
  return {
    t,
    states,
    started,
    reconciled,
    orphanCalls,
    setPods: (p: Pod[]) => {
      pods = p;
    },
    setMirrors: (m: Pod[]) => {
      mirrors = m;
    },
  };
}

describe('StaticPodTracker (upstream allowStaticPodStart, deleteOrphanedMirrorPods)', () => {
  it('starts a new UID of a full name only after the old one finished terminating', () => {
    const s = setup();
    expect(s.t.mayStart(staticPod('v1'))).toBe(true);
    s.states.set('v1', 'sync');
    // The manifest changed: v1 is removed (terminating), v2 is added.
    s.states.set('v1', 'terminating');
    expect(s.t.mayStart(staticPod('v2'))).toBe(false);
    expect(s.t.isWaiting('v2')).toBe(true);
    s.setPods([staticPod('v2')]);
    s.t.housekeeping(true);
    expect(s.started).toEqual([]);
    s.states.set('v1', 'finished');
    s.t.housekeeping(true);
    expect(s.started).toEqual(['v2']);
    expect(s.t.isWaiting('v2')).toBe(false);
  });

  it('does not hold back pods of other full names or API pods', () => {
    const s = setup();
    s.t.mayStart(staticPod('a'));
    s.states.set('a', 'sync');
    expect(s.t.mayStart(staticPod('b', 'apiserver-n1'))).toBe(true);
    expect(
      s.t.mayStart({
        metadata: { name: 'etcd-n1', namespace: 'kube-system', uid: 'api' },
        spec: { containers: [] },
      }),
    ).toBe(true);
  });

  it('reconciles mirrors of running static pods and deletes orphaned mirrors only when sources are ready', () => {
    const s = setup();
    s.t.mayStart(staticPod('a'));
    s.states.set('a', 'sync');
    s.setPods([staticPod('a')]);
    const orphan: Pod = {
      metadata: { name: 'gone-n1', namespace: 'kube-system', uid: 'm2' },
      spec: { containers: [] },
    };
    const mine: Pod = {
      metadata: { name: 'etcd-n1', namespace: 'kube-system', uid: 'm1' },
      spec: { containers: [] },
    };
    s.setMirrors([mine, orphan]);
    s.t.housekeeping(false);
    expect(s.reconciled).toEqual(['a']);
    expect(s.orphanCalls).toEqual([]);
    s.t.housekeeping(true);
    expect(s.orphanCalls).toEqual([['m2']]);
  });

  it('keeps the mirror while a removed static pod still terminates', () => {
    const s = setup();
    s.t.mayStart(staticPod('a'));
    s.states.set('a', 'terminating');
    s.setPods([]);
    s.setMirrors([
      { metadata: { name: 'etcd-n1', namespace: 'kube-system', uid: 'm1' }, spec: { containers: [] } },
    ]);
    s.t.housekeeping(true);
    expect(s.orphanCalls).toEqual([[]]);
    s.states.set('a', 'finished');
    s.t.housekeeping(true);
    expect(s.orphanCalls.at(-1)).toEqual(['m1']);
  });
});
