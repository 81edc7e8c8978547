import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '../../../src/api/rest.js';
import { ServiceCache } from '../../../src/api/serviceCache.js';
import type { Service } from '../../../src/api/types.js';

// The kubelet's Service informer (upstream NewMainKubelet: a Services informer with
// fieldSelector spec.clusterIP!=None) against a scripted fake apiserver.

const svc = (namespace: string, name: string, rv: string, port = 80): Service => ({
  metadata: { name, namespace, resourceVersion: rv, uid: `u-${namespace}-${name}`, labels: { a: 'b' } },
  spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 8080 }] },
});

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function fakeApi(
  script: (q: URLSearchParams, res: http.ServerResponse, n: { lists: number; watches: number }) => void,
) {
  const counts = { lists: 0, watches: 0 };
  const queries: URLSearchParams[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    queries.push(url.searchParams);
    paths.push(url.pathname);
    if (url.searchParams.get('watch') === 'true') counts.watches++;
    else counts.lists++;
    script(url.searchParams, res, counts);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { rest: await RestClient.fromKubeConfig(kc), counts, queries, paths };
}

const until = async (f: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ServiceCache', () => {
  it('is unsynced until the first list, then serves the namespace plus default/kubernetes from the watch', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const api = await fakeApi((q, res, n) => {
      if (q.get('watch') !== 'true') {
        void gate.then(() =>
          res.end(
            JSON.stringify({
              metadata: { resourceVersion: '10' },
              items: [
                svc('default', 'kubernetes', '1', 443),
                svc('default', 'other', '2'),
                svc('ns1', 'a', '3'),
              ],
            }),
          ),
        );
        return;
      }
      if (n.watches > 1) return; // a later watch just hangs
      res.write(`${JSON.stringify({ type: 'ADDED', object: svc('ns1', 'fooservice', '11', 8765) })}\n`);
      res.write(`${JSON.stringify({ type: 'DELETED', object: svc('ns1', 'a', '12') })}\n`);
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } })}\n`);
      res.end();
    });
    const cache = new ServiceCache({ rest: api.rest });
    const ac = new AbortController();
    const done = cache.run(ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(cache.hasSynced).toBe(false);
    expect(cache.forNamespace('ns1')).toBeUndefined();
    release?.();
    await until(() => api.counts.watches >= 2);
    expect(cache.hasSynced).toBe(true);
    expect(
      cache
        .forNamespace('ns1')
        ?.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)
        .sort(),
    ).toEqual(['default/kubernetes', 'ns1/fooservice']);
    // default's own services are the namespace's; the master service is not repeated
    expect(cache.forNamespace('default')?.map((s) => s.metadata?.name)).toEqual(['kubernetes', 'other']);
    expect(cache.forNamespace('empty')?.map((s) => s.metadata?.name)).toEqual(['kubernetes']);
    // only what the variables need is kept
    expect(cache.forNamespace('ns1')?.find((s) => s.metadata?.name === 'fooservice')).toEqual({
      metadata: { name: 'fooservice', namespace: 'ns1' },
      spec: { clusterIP: '10.96.0.7', ports: [{ port: 8765, name: 'http', protocol: 'TCP' }] },
    });
    // headless services are filtered by the apiserver, like upstream
    expect(api.paths[0]).toBe('/api/v1/services');
    expect(api.queries[0]?.get('fieldSelector')).toBe('spec.clusterIP!=None');
    expect(api.queries[1]?.get('resourceVersion')).toBe('10');
    expect(api.queries[2]?.get('resourceVersion')).toBe('13');
    ac.abort();
    await done;
  });

  it('relists on 410 Gone and replaces what it held', async () => {
    const api = await fakeApi((q, res, n) => {
      if (q.get('watch') !== 'true') {
        const items = n.lists === 1 ? [svc('ns1', 'old', '1')] : [svc('ns1', 'new', '5')];
        res.end(JSON.stringify({ metadata: { resourceVersion: String(n.lists * 10) }, items }));
        return;
      }
      if (n.watches === 1) {
        res.write(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } })}\n`,
        );
        res.end();
      }
    });
    const cache = new ServiceCache({ rest: api.rest });
    const ac = new AbortController();
    const done = cache.run(ac.signal);
    await until(() => api.counts.lists >= 2 && api.counts.watches >= 2);
    expect(cache.forNamespace('ns1')?.map((s) => s.metadata?.name)).toEqual(['new']);
    ac.abort();
    await done;
  });
});
