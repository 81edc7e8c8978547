import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { PodConfig, type PodOp, seenTimestamp } from '../../../src/sync/podConfig.js';

const pod = (annotations: Record<string, string> = {}, image = 'busybox'): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', annotations },
  spec: { containers: [{ name: 'c', image }] },
});

describe('PodConfig local annotations (upstream config.source / config.seen)', () => {
  it('annotates every pod with its source and first-seen time, kept across updates', () => {
    const ops: Array<[PodOp, Pod]> = [];
    let now = Date.parse('2026-03-04T05:06:07.089Z');
    const cfg = new PodConfig(
      (op, p) => ops.push([op, p]),
      () => now,
    );
    cfg.snapshot([pod({ a: '1' })]);
    now += 60_000;
    cfg.upsert(pod({ a: '1' }));
    cfg.upsert(pod({ a: '2' }));
    expect(ops.map(([op]) => op)).toEqual(['ADD', 'RECONCILE', 'UPDATE']);
    for (const [, p] of ops) {
      expect(p.metadata?.annotations).toMatchObject({
        'kubernetes.io/config.source': 'api',
        'kubernetes.io/config.seen': '2026-03-04T05:06:07.089000000Z',
      });
    }
    expect(ops[2]?.[1].metadata?.annotations?.a).toBe('2');
  });

  it('formats the time as upstream RFC3339NanoFixed', () => {
    expect(seenTimestamp(Date.parse('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000000000Z');
  });

  it('does not change the pod it was given', () => {
    const given = pod();
    new PodConfig(() => {}).upsert(given);
    expect(given.metadata?.annotations).toEqual({});
  });
});
