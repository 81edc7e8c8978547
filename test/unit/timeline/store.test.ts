import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { renderWaterfall } from '../../../src/timeline/render.js';
import { TimelineStore } from '../../../src/timeline/store.js';

function store(o: ConstructorParameters<typeof TimelineStore>[0] = {}) {
  let t = 0;
  const s = new TimelineStore({ clock: () => t, wallOrigin: Date.UTC(2026, 0, 1), ...o });
  return { s, advance: (ms: number) => (t += ms) };
}

describe('TimelineStore', () => {
  it('records instants and spans with monotonic times, wall times and durations', () => {
    const { s, advance } = store();
    s.pod('u1', 'ns', 'web');
    s.record('u1', { kind: 'watch', step: 'ADD' });
    advance(5);
    const end = s.begin('u1', { kind: 'image', step: 'pull busybox', container: 'app' });
    advance(1200);
    expect(s.get('u1')?.entries[1]).toMatchObject({ step: 'pull busybox', open: true });
    end('ok', '2140961 bytes');
    const t = s.find('ns', 'web');
    expect(t?.uid).toBe('u1');
    expect(t?.entries).toEqual([
      { kind: 'watch', step: 'ADD', at: 0, time: '2026-01-01T00:00:00.000Z' },
      {
        kind: 'image',
        step: 'pull busybox',
        container: 'app',
        at: 5,
        time: '2026-01-01T00:00:00.005Z',
        durationMs: 1200,
        result: 'ok',
        detail: '2140961 bytes',
      },
    ]);
  });

  it('ignores pods it was not told about (a late step cannot bring a dropped pod back)', () => {
    const { s } = store();
    s.record('nobody', { kind: 'watch', step: 'ADD' });
    s.begin('nobody', { kind: 'cri', step: 'RunPodSandbox' })('ok');
    expect(s.get('nobody')).toBeUndefined();
    expect(s.size).toEqual({ pods: 0, entries: 0 });
  });

  it('keeps a pod within its cap: the first steps survive, the oldest later ones are dropped', () => {
    const { s, advance } = store({ maxEntriesPerPod: 10, keepFirst: 3 });
    s.pod('u1', 'ns', 'p');
    for (let i = 0; i < 25; i++) {
      s.record('u1', { kind: 'probe', step: `step ${i}` });
      advance(1);
    }
    const t = s.get('u1');
    expect(t?.entries.map((e) => e.step)).toEqual([
      'step 0',
      'step 1',
      'step 2',
      ...Array.from({ length: 7 }, (_, i) => `step ${18 + i}`),
    ]);
    expect(t?.dropped).toBe(15);
    expect(s.size.entries).toBe(10);
  });

  it('keeps the total within its cap, dropping gone pods first, then the least recently active', () => {
    const { s, advance } = store({ maxEntriesPerPod: 10, maxEntries: 20 });
    for (const uid of ['a', 'b', 'c']) {
      s.pod(uid, 'ns', uid);
      for (let i = 0; i < 6; i++) s.record(uid, { kind: 'watch', step: `${uid}${i}` });
      advance(10);
    }
    expect(s.size).toEqual({ pods: 3, entries: 18 });
    s.gone('b');
    s.record('a', { kind: 'watch', step: 'a-late' });
    s.pod('d', 'ns', 'd');
    for (let i = 0; i < 3; i++) s.record('d', { kind: 'watch', step: `d${i}` });
    // 22 > 20: the gone pod b goes first.
    expect(s.get('b')).toBeUndefined();
    expect(s.size.entries).toBe(16);
    for (let i = 0; i < 6; i++) s.record('d', { kind: 'watch', step: `d more ${i}` });
    // 22 > 20 again, nothing gone: c (least recently active) goes; a was touched after c.
    expect(s.get('c')).toBeUndefined();
    expect(s.get('a')?.entries).toHaveLength(7);
    expect(s.size.entries).toBe(16);
  });

  it('drops a gone pod once the retention period has passed, not before', () => {
    const { s, advance } = store({ retentionMs: 60_000 });
    s.pod('u1', 'ns', 'p');
    s.record('u1', { kind: 'watch', step: 'ADD' });
    s.gone('u1');
    advance(59_000);
    expect(s.find('ns', 'p')?.goneAt).toBe('2026-01-01T00:00:00.000Z');
    advance(2_000);
    expect(s.find('ns', 'p')).toBeUndefined();
    expect(s.size).toEqual({ pods: 0, entries: 0 });
  });

  it('finds the newest pod of a recreated name', () => {
    const { s, advance } = store();
    s.pod('old', 'ns', 'p');
    s.record('old', { kind: 'watch', step: 'ADD' });
    advance(100);
    s.pod('new', 'ns', 'p');
    s.record('new', { kind: 'watch', step: 'ADD' });
    expect(s.find('ns', 'p')?.uid).toBe('new');
  });
});

describe('renderWaterfall', () => {
  it('aligns offsets and durations, draws bars on one scale and marks the slowest step', () => {
    const { s, advance } = store();
    s.pod('u1', 'ns', 'web');
    s.record('u1', { kind: 'watch', step: 'ADD' });
    const sync = s.begin('u1', { kind: 'worker', step: 'SyncPod' });
    const sb = s.begin('u1', { kind: 'cri', step: 'RunPodSandbox' });
    advance(300);
    sb('ok');
    const pull = s.begin('u1', { kind: 'image', step: 'pull busybox', container: 'app' });
    advance(2_500);
    pull('ok');
    s.begin('u1', { kind: 'cri', step: 'StartContainer', container: 'app' })('DeadlineExceeded');
    advance(200);
    sync('ok');
    const out = renderWaterfall(s.find('ns', 'web')!);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('pod ns/web (uid u1) from 2026-01-01T00:00:00.000Z, 3.00s shown');
    expect(lines[5]).toContain('+300ms    2.50s  image      pull busybox [app]');
    expect(lines[5]).toMatch(/\| {3}█{27} {2}\| {2}◀ slowest$/);
    expect(lines.filter((l) => l.includes('slowest'))).toHaveLength(1);
    expect(lines[6]).toContain('StartContainer [app] → DeadlineExceeded');
    expect(lines[3]).toMatch(/SyncPod +\|█{32}\|$/);
    // Every bar starts at the same column.
    expect(new Set(lines.slice(2).map((l) => l.indexOf('|'))).size).toBe(1);
  });
});

describe('pod start SLI from the timeline', () => {
  const created = Date.UTC(2026, 0, 1);
  const pod = (
    status: NonNullable<Pod['status']>,
    volumes: NonNullable<Pod['spec']>['volumes'] = [],
  ): Pod => ({
    metadata: { uid: 'u1', namespace: 'ns', name: 'web', creationTimestamp: new Date(created).toISOString() },
    spec: { containers: [{ name: 'app', image: 'busybox' }], volumes },
    status,
  });
  const running = {
    phase: 'Running',
    startTime: '2026-01-01T00:00:01Z',
    containerStatuses: [
      {
        name: 'app',
        ready: true,
        restartCount: 0,
        image: 'busybox',
        imageID: '',
        state: { running: { startedAt: '2026-01-01T00:00:05Z' } },
      },
    ],
  };

  it('is creation → observed running, minus image pulls (overlaps once) and init containers, reported once', () => {
    const { s, advance } = store();
    const seen: unknown[] = [];
    s.subscribe((o) => seen.push(o));
    s.pod('u1', 'ns', 'web');
    s.observed(pod({ phase: 'Pending' }));
    advance(1_000);
    const a = s.begin('u1', { kind: 'image', step: 'pull a', container: 'app' });
    advance(1_000);
    const b = s.begin('u1', { kind: 'image', step: 'pull b', container: 'side' });
    advance(1_000);
    a('ok');
    advance(1_000);
    b('ok');
    advance(2_000);
    const init = {
      name: 'migrate',
      ready: false,
      restartCount: 0,
      image: 'busybox',
      imageID: '',
      state: {
        terminated: {
          exitCode: 0,
          startedAt: '2026-01-01T00:00:04Z',
          finishedAt: '2026-01-01T00:00:04.500Z',
        },
      },
    };
    s.observed(pod({ ...running, initContainerStatuses: [init] }));
    s.observed(pod(running));
    // 6 s after creation; pulls cover 1 s → 4 s (3 s); the init container ran 0.5 s.
    expect(seen).toEqual([
      {
        uid: 'u1',
        namespace: 'ns',
        name: 'web',
        totalSeconds: 6,
        sliSeconds: 2.5,
        imagePullSeconds: 3,
        initSeconds: 0.5,
      },
    ]);
    expect(s.get('u1')?.entries.at(-1)).toMatchObject({ kind: 'watch', step: 'observed running' });
  });

  it('leaves out pods already started when first seen, and keeps stateful pods out of the SLI', () => {
    const { s, advance } = store();
    const seen: { sliSeconds?: number }[] = [];
    s.subscribe((o) => seen.push(o));
    s.pod('u1', 'ns', 'web');
    s.observed(pod(running));
    advance(1_000);
    s.observed(pod(running));
    expect(seen).toEqual([]);

    const t = store();
    t.s.subscribe((o) => seen.push(o));
    t.s.pod('u1', 'ns', 'web');
    const pvc = [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }];
    t.s.observed(pod({ phase: 'Pending' }, pvc));
    t.advance(3_000);
    t.s.observed(pod(running, pvc));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.sliSeconds).toBeUndefined();
  });
});
