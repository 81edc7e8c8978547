import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PodSource } from '../../../src/api/podSource.js';
import { RestClient } from '../../../src/api/rest.js';
import type { Pod } from '../../../src/api/types.js';

// The pod source against a scripted fake apiserver: list, watch, 410 Gone → relist, a silent
// watch restarted by the watchdog, and reconnects after errors.

const pod = (name: string, rv: string): Pod => ({
  metadata: { name, namespace: 'd', uid: `u-${name}`, resourceVersion: rv },
  spec: { containers: [], nodeName: 'n1' },
});

type Script = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  n: { lists: number; watches: number },
) => void;

async function fakeApi(script: Script): Promise<{
  rest: RestClient;
  server: http.Server;
  counts: { lists: number; watches: number };
  queries: URLSearchParams[];
}> {
  const counts = { lists: 0, watches: 0 };
  const queries: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    queries.push(q);
    if (q.get('watch') === 'true') counts.watches++;
    else counts.lists++;
    script(req, res, counts);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { rest: await RestClient.fromKubeConfig(kc), server, counts, queries };
}

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function collector() {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      onSnapshot: (pods: Pod[]) => seen.push(`snapshot:${pods.map((p) => p.metadata?.name).join(',')}`),
      onUpsert: (p: Pod) => seen.push(`upsert:${p.metadata?.name}`),
      onDelete: (p: Pod) => seen.push(`delete:${p.metadata?.name}`),
    },
  };
}

const until = async (f: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('PodSource', () => {
  it('lists with the node field selector, watches from the list RV, and relists on 410', async () => {
    const api = await fakeApi((req, res, n) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      if (q.get('watch') !== 'true') {
        res.end(
          JSON.stringify({
            kind: 'PodList',
            metadata: { resourceVersion: n.lists === 1 ? '10' : '20' },
            items: n.lists === 1 ? [pod('a', '9')] : [pod('b', '19')],
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (n.watches === 1) {
        res.write(`${JSON.stringify({ type: 'ADDED', object: pod('b', '11') })}\n`);
        res.write(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
        );
        res.end();
      }
    });
    servers.push(api.server);
    const c = collector();
    const ac = new AbortController();
    const src = new PodSource({ rest: api.rest, nodeName: 'n1', handler: c.handler, idleTimeoutMs: 60_000 });
    const done = src.run(ac.signal);
    await until(() => api.counts.lists >= 2 && api.counts.watches >= 2);
    ac.abort();
    await done;
    api.rest.close();
    expect(c.seen.slice(0, 3)).toEqual(['snapshot:a', 'upsert:b', 'snapshot:b']);
    expect(api.queries[0]?.get('fieldSelector')).toBe('spec.nodeName=n1');
    expect(api.queries[1]?.get('resourceVersion')).toBe('10');
    expect(api.queries[1]?.get('allowWatchBookmarks')).toBe('true');
    expect(api.queries[3]?.get('resourceVersion')).toBe('20');
  });

  it('restarts a watch that goes silent, resuming from the last resourceVersion', async () => {
    const api = await fakeApi((req, res, n) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      if (q.get('watch') !== 'true') {
        res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '5' }, items: [] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (n.watches === 1)
        res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } })}\n`,
        );
      // ...and then nothing: a half-open connection.
    });
    servers.push(api.server);
    const c = collector();
    const ac = new AbortController();
    const src = new PodSource({ rest: api.rest, nodeName: 'n1', handler: c.handler, idleTimeoutMs: 300 });
    const done = src.run(ac.signal);
    await until(() => api.counts.watches >= 2);
    ac.abort();
    await done;
    api.rest.close();
    expect(api.counts.lists).toBe(1);
    expect(api.queries.filter((q) => q.get('watch') === 'true')[1]?.get('resourceVersion')).toBe('7');
  });

  it('reconnects after server errors with backoff', async () => {
    const api = await fakeApi((_req, res, n) => {
      if (n.lists < 3) {
        res.writeHead(503).end('{"kind":"Status","code":503,"reason":"ServiceUnavailable","message":"down"}');
        return;
      }
      res.end(
        JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '1' }, items: [pod('x', '1')] }),
      );
    });
    servers.push(api.server);
    const c = collector();
    const ac = new AbortController();
    const src = new PodSource({ rest: api.rest, nodeName: 'n1', handler: c.handler });
    const done = src.run(ac.signal);
    await until(() => c.seen.includes('snapshot:x'));
    ac.abort();
    await done;
    api.rest.close();
    expect(api.counts.lists).toBe(3);
    expect(src.hasSynced).toBe(true);
  });
});
