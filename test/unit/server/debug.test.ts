import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { requestAttributes } from '../../../src/server/attributes.js';
import { type ServerDebug, serveDebugPods } from '../../../src/server/debug.js';

const debug: ServerDebug = {
  timeline: (ns, name) =>
    ns === 'shop' && name === 'web'
      ? {
          namespace: 'shop',
          name: 'web',
          uid: 'u1',
          entries: [{ kind: 'watch', step: 'ADD', at: 10, time: '2026-01-01T00:00:00.000Z' }],
        }
      : undefined,
  explain: () => undefined,
  dryRun: (pod) => ({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, admission: 'admitted' }),
  monoNow: () => 20,
};

function req(method: string, body = ''): IncomingMessage {
  return Object.assign(Readable.from(body ? [Buffer.from(body)] : []), {
    method,
  }) as unknown as IncomingMessage;
}
const parts = (p: string) => p.split('/').filter(Boolean);

describe('/debug/pods on the kubelet API', () => {
  it('serves a timeline as JSON or as the waterfall', async () => {
    const j = await serveDebugPods(
      debug,
      parts('/debug/pods/shop/web/timeline'),
      new URLSearchParams(),
      req('GET'),
    );
    expect(j.code).toBe(200);
    expect(JSON.parse(j.body)).toMatchObject({
      kind: 'PodTimeline',
      namespace: 'shop',
      name: 'web',
      monoNow: 20,
    });
    const t = await serveDebugPods(
      debug,
      parts('/debug/pods/shop/web/timeline'),
      new URLSearchParams('format=text'),
      req('GET'),
    );
    expect(t.body.split('\n')[0]).toBe('pod shop/web (uid u1) from 2026-01-01T00:00:00.000Z, 10ms shown');
  });

  it('answers 404 for pods it does not know and paths it does not serve', async () => {
    const q = new URLSearchParams();
    expect((await serveDebugPods(debug, parts('/debug/pods/shop/gone/timeline'), q, req('GET'))).body).toBe(
      'no timeline for pod "shop/gone" on this node\n',
    );
    expect((await serveDebugPods(debug, parts('/debug/pods/shop/gone/explain'), q, req('GET'))).code).toBe(
      404,
    );
    expect((await serveDebugPods(debug, parts('/debug/pods/shop/web/other'), q, req('GET'))).code).toBe(404);
    expect((await serveDebugPods(debug, parts('/debug/pprof'), q, req('GET'))).code).toBe(404);
  });

  it('POST explain is a dry run of the pod in the body, named by the path', async () => {
    const q = new URLSearchParams();
    const ok = await serveDebugPods(
      debug,
      parts('/debug/pods/shop/new/explain'),
      q,
      req('POST', JSON.stringify({ spec: { containers: [{ name: 'c', image: 'busybox' }] } })),
    );
    expect(JSON.parse(ok.body)).toEqual({ kind: 'PodDryRun', pod: 'shop/new', admission: 'admitted' });
    const bad = await serveDebugPods(
      debug,
      parts('/debug/pods/shop/new/explain'),
      q,
      req('POST', '{not json'),
    );
    expect(bad.code).toBe(400);
  });

  it('is authorized as nodes/proxy, upstream default for paths it does not name', () => {
    expect(requestAttributes('GET', '/debug/pods/shop/web/timeline', 'n1')).toEqual([
      expect.objectContaining({ verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1' }),
    ]);
    expect(requestAttributes('POST', '/debug/pods/shop/web/explain', 'n1').map((a) => a.verb)).toEqual([
      'create',
    ]);
  });
});
