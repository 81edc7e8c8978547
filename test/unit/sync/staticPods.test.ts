import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { buildMirrorPod, isMirrorPodOf, mirrorAction } from '../../../src/sync/mirrorPods.js';
import { PodConfig, type PodOp, seenTimestamp } from '../../../src/sync/podConfig.js';
import { StaticPodFileSource, StaticPodURLSource } from '../../../src/sync/staticPods.js';

const manifest = (name: string, image = 'busybox:1') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: kube-system}\nspec:\n  containers: [{name: c, image: "${image}"}]\n`;

describe('StaticPodFileSource', () => {
  let dir: string;
  let snapshots: Pod[][];
  let source: StaticPodFileSource;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'static-pods-'));
    snapshots = [];
    source = new StaticPodFileSource(dir, 20_000, { nodeName: 'n1', onSnapshot: (p) => snapshots.push(p) });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const names = () => snapshots.at(-1)?.map((p) => p.metadata?.name);

  it('reads every manifest of a directory, skipping dot files and broken manifests', async () => {
    await writeFile(join(dir, 'a.yaml'), manifest('a'));
    await writeFile(
      join(dir, 'b.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'b' },
        spec: { containers: [{ name: 'c', image: 'i:1' }] },
      }),
    );
    await writeFile(join(dir, '.swp'), manifest('hidden'));
    await writeFile(join(dir, 'broken.yaml'), 'kind: [');
    await source.list();
    expect(names()).toEqual(['a-n1', 'b-n1']);
  });

  it('delivers an empty set for a missing path and for an emptied directory', async () => {
    await writeFile(join(dir, 'a.yaml'), manifest('a'));
    await source.list();
    await unlink(join(dir, 'a.yaml'));
    await source.list();
    expect(names()).toEqual([]);
    await new StaticPodFileSource(join(dir, 'nope'), 20_000, {
      nodeName: 'n1',
      onSnapshot: (p) => snapshots.push(p),
    }).list();
    expect(names()).toEqual([]);
  });

  it('reads a single file path', async () => {
    await writeFile(join(dir, 'a.yaml'), manifest('a'));
    const one = new StaticPodFileSource(join(dir, 'a.yaml'), 20_000, {
      nodeName: 'n1',
      onSnapshot: (p) => snapshots.push(p),
    });
    await one.list();
    expect(names()).toEqual(['a-n1']);
  });

  it('notices a new file through inotify well before the poll period', async () => {
    const ac = new AbortController();
    const running = source.run(ac.signal);
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(join(dir, 'late.yaml'), manifest('late'));
    const deadline = Date.now() + 5_000;
    while (!names()?.includes('late-n1') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await running;
    expect(names()).toContain('late-n1');
  });
});

describe('PodConfig with a file source and mirror pods', () => {
  const ops: [PodOp, string][] = [];
  const mirrorOps: [string, string][] = [];
  const pc = new PodConfig(
    (op, p) => ops.push([op, p.metadata?.uid ?? '']),
    () => Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  );
  pc.onMirror = (op, p) => mirrorOps.push([op, p.metadata?.uid ?? '']);
  pc.addSource('file');
  const staticPod: Pod = {
    metadata: {
      name: 'etcd-n1',
      namespace: 'kube-system',
      uid: 's1',
      annotations: { 'kubernetes.io/config.hash': 's1' },
    },
    spec: { containers: [] },
  };
  const mirror: Pod = {
    metadata: {
      name: 'etcd-n1',
      namespace: 'kube-system',
      uid: 'm1',
      annotations: { 'kubernetes.io/config.mirror': 's1', 'kubernetes.io/config.hash': 's1' },
    },
    spec: { containers: [] },
  };

  it('waits for every source before housekeeping may run', () => {
    pc.snapshot([], 'api');
    expect(pc.sourcesReady).toBe(false);
    pc.snapshot([structuredClone(staticPod)], 'file');
    expect(pc.sourcesReady).toBe(true);
    expect(ops).toEqual([['ADD', 's1']]);
  });

  it('annotates static pods with config.source and the first config.seen (RFC3339NanoFixed)', () => {
    const p = pc.get('s1');
    expect(p?.metadata?.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(p?.metadata?.annotations?.['kubernetes.io/config.seen']).toBe('2026-01-02T03:04:05.678000000Z');
    pc.snapshot([structuredClone(staticPod)], 'file');
    expect(ops.at(-1)).toEqual(['RECONCILE', 's1']);
  });

  it('keeps mirror pods apart from the desired pods', () => {
    pc.snapshot([structuredClone(mirror)], 'api');
    expect(pc.all().map((p) => p.metadata?.uid)).toEqual(['s1']);
    expect(pc.mirrorPod('etcd-n1_kube-system')?.metadata?.uid).toBe('m1');
    expect(mirrorOps).toEqual([['set', 'm1']]);
    pc.delete(structuredClone(mirror));
    expect(mirrorOps.at(-1)).toEqual(['delete', 'm1']);
    expect(pc.mirrorPod('etcd-n1_kube-system')).toBeUndefined();
  });

  it('delivers REMOVE of the old UID before ADD of the new one when a manifest changes (upstream Merge)', () => {
    const before = ops.length;
    pc.snapshot([{ ...structuredClone(staticPod), metadata: { ...staticPod.metadata, uid: 's2' } }], 'file');
    expect(ops.slice(before)).toEqual([
      ['REMOVE', 's1'],
      ['ADD', 's2'],
    ]);
    pc.snapshot([structuredClone(staticPod)], 'file');
  });

  it('an API snapshot does not remove file pods; a file snapshot removes them', () => {
    pc.snapshot([], 'api');
    expect(pc.get('s1')).toBeDefined();
    pc.snapshot([], 'file');
    expect(ops.at(-1)).toEqual(['REMOVE', 's1']);
  });

  it('seenTimestamp pads to nanoseconds', () => {
    expect(seenTimestamp(Date.UTC(2026, 11, 8, 0, 50, 26, 5))).toBe('2026-12-08T00:50:26.005000000Z');
  });
});

describe('mirror pods (upstream mirror_client.go, tryReconcileMirrorPods)', () => {
  const staticPod: Pod = {
    metadata: {
      name: 'etcd-n1',
      namespace: 'kube-system',
      uid: 's1',
      annotations: { 'kubernetes.io/config.hash': 's1', 'kubernetes.io/config.source': 'file' },
    },
    spec: { containers: [{ name: 'etcd' }], nodeName: 'n1' },
  };

  it('builds the mirror with config.mirror = hash and a controller ownerReference to the Node', () => {
    const m = buildMirrorPod(staticPod, { name: 'n1', uid: 'node-uid' });
    expect(m.metadata?.annotations).toEqual({
      'kubernetes.io/config.hash': 's1',
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.mirror': 's1',
    });
    expect(m.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true },
    ]);
    expect(m.spec).toEqual(staticPod.spec);
    expect(isMirrorPodOf(m, staticPod)).toBe(true);
  });

  it('creates a missing mirror, recreates a stale or deleting one, leaves a matching one', () => {
    const m = buildMirrorPod(staticPod, { name: 'n1', uid: 'u' });
    expect(mirrorAction(staticPod, undefined)).toBe('create');
    expect(mirrorAction(staticPod, m)).toBe('none');
    const stale = structuredClone(m);
    (stale.metadata?.annotations as Record<string, string>)['kubernetes.io/config.mirror'] = 'old';
    expect(mirrorAction(staticPod, stale)).toBe('recreate');
    expect(
      mirrorAction(staticPod, {
        ...m,
        metadata: { ...m.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' },
      }),
    ).toBe('recreate');
  });
});

describe('StaticPodURLSource (upstream http.go)', () => {
  it('reads a Pod or a PodList from staticPodURL with staticPodURLHeader, and an empty body as no pods', async () => {
    let body = manifest('one');
    let headers: Record<string, string | string[] | undefined> = {};
    const server = createServer((req, res) => {
      headers = req.headers;
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
    const got: Pod[][] = [];
    const src = new StaticPodURLSource(url, { 'X-Token': ['a', 'b'] }, 20_000, {
      nodeName: 'n1',
      onSnapshot: (p) => got.push(p),
    });
    try {
      await src.extract();
      expect(got.at(-1)?.map((p) => p.metadata?.name)).toEqual(['one-n1']);
      expect(headers['x-token']).toBe('a, b');
      // The http source hashes the URL, not a file path, and adds no toleration.
      expect(got.at(-1)?.[0]?.spec?.tolerations).toBeUndefined();
      body = JSON.stringify({
        apiVersion: 'v1',
        kind: 'PodList',
        items: [
          { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
          { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
        ],
      });
      await src.extract();
      expect(got.at(-1)?.map((p) => p.metadata?.name)).toEqual(['a-n1', 'b-n1']);
      body = '';
      await src.extract();
      expect(got.at(-1)).toEqual([]);
    } finally {
      server.close();
    }
  });
});
