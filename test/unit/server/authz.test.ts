import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestClient } from '../../../src/api/rest.js';
import type { Pod } from '../../../src/api/types.js';
import { CriClient } from '../../../src/cri/client.js';
import { isSubpath, requestAttributes } from '../../../src/server/attributes.js';
import { KubeletAuth } from '../../../src/server/auth.js';
import { KubeletMetrics } from '../../../src/server/metrics.js';
import { KubeletServer } from '../../../src/server/server.js';
import { StatsProvider } from '../../../src/server/stats.js';
import { silentLogger } from '../../../src/util/log.js';

// The kubelet API's fine-grained authorization (KubeletFineGrainedAuthz, GA and locked on since
// 1.36). Expectations are upstream's pkg/kubelet/server/auth_test.go at v1.37.2
// (TestIsSubPath, TestGetRequestAttributes with AuthzTestCases(fineGrained=true)).

describe('isSubpath (upstream TestIsSubPath)', () => {
  const cases: [string, string, boolean][] = [
    ['', '', true],
    ['foo', 'foo', true],
    ['/foo', '/foo', true],
    ['/foo/', '/foo/', true],
    ['/foo/bar', '/foo/bar', true],
    ['/foo', '/', true],
    ['/foo/', '/', true],
    ['/foo/bar', '/', true],
    ['/foo/', '/foo', true],
    ['/foo/bar', '/foo', true],
    ['/foo', '/bar', false],
    ['/foo', '/foobar', false],
    ['/foobar', '/foo', false],
  ];
  it.each(cases)('isSubpath(%j, %j) = %s', (sub, path, want) => {
    expect(isSubpath(sub, path)).toBe(want);
  });
});

describe('request attributes (upstream AuthzTestCases, fine-grained)', () => {
  const paths: Record<string, string[]> = {
    '/attach/{podNamespace}/{podID}/{containerName}': ['proxy'],
    '/attach/{podNamespace}/{podID}/{uid}/{containerName}': ['proxy'],
    '/checkpoint/{podNamespace}/{podID}/{containerName}': ['checkpoint'],
    '/configz': ['configz', 'proxy'],
    '/flagz': ['configz'],
    '/statusz': ['statusz'],
    '/containerLogs/{podNamespace}/{podID}/{containerName}': ['proxy'],
    '/debug/flags/v': ['proxy'],
    '/debug/pprof/{subpath:*}': ['proxy'],
    '/exec/{podNamespace}/{podID}/{containerName}': ['proxy'],
    '/exec/{podNamespace}/{podID}/{uid}/{containerName}': ['proxy'],
    '/healthz': ['healthz', 'proxy'],
    '/healthz/log': ['healthz', 'proxy'],
    '/healthz/ping': ['healthz', 'proxy'],
    '/healthz/syncloop': ['healthz', 'proxy'],
    '/logs/': ['log'],
    '/logs/{logpath:*}': ['log'],
    '/metrics': ['metrics'],
    '/metrics/slis': ['metrics'],
    '/metrics/cadvisor': ['metrics'],
    '/metrics/probes': ['metrics'],
    '/metrics/resource': ['metrics'],
    '/pods/': ['pods', 'proxy'],
    '/portForward/{podNamespace}/{podID}': ['proxy'],
    '/portForward/{podNamespace}/{podID}/{uid}': ['proxy'],
    '/run/{podNamespace}/{podID}/{containerName}': ['proxy'],
    '/run/{podNamespace}/{podID}/{uid}/{containerName}': ['proxy'],
    '/runningpods/': ['pods', 'proxy'],
    '/stats/': ['stats'],
    '/stats/summary': ['stats'],
  };
  const verbs: [string, string][] = [
    ['POST', 'create'],
    ['GET', 'get'],
    ['PUT', 'update'],
    ['PATCH', 'patch'],
    ['DELETE', 'delete'],
  ];
  const cases = Object.entries(paths).flatMap(([path, subs]) =>
    verbs.map(([method, verb]) => [method, path, verb, subs] as const),
  );
  it.each(cases)('%s %s → verb %s, subresources %j', (method, path, verb, subs) => {
    expect(requestAttributes(method, path, 'test')).toEqual(
      subs.map((subresource) => ({ verb, resource: 'nodes', subresource, name: 'test', path })),
    );
  });

  it('gives the exact /pods, /allocatedPods and /runningpods the pods subresource, not look-alikes', () => {
    const subs = (p: string) => requestAttributes('GET', p, 'n').map((a) => a.subresource);
    expect(subs('/pods')).toEqual(['pods', 'proxy']);
    expect(subs('/allocatedPods')).toEqual(['pods', 'proxy']);
    expect(subs('/runningpods')).toEqual(['pods', 'proxy']);
    expect(subs('/podsx')).toEqual(['proxy']);
    expect(subs('/healthzz')).toEqual(['proxy']);
    expect(subs('/statsfoo')).toEqual(['proxy']);
    expect(subs('/')).toEqual(['proxy']);
  });

  it('maps methods other than the five to the empty verb, as upstream', () => {
    expect(requestAttributes('HEAD', '/healthz', 'n')[0]?.verb).toBe('');
    expect(requestAttributes('OPTIONS', '/pods', 'n')[0]?.verb).toBe('');
  });
});

// ---- the server's auth filter against a fake apiserver (TokenReview + SubjectAccessReview) ----

/** Who each bearer token is, and which nodes/<subresource> each user may `get`. */
const TOKENS: Record<string, string> = {
  't-healthz': 'healthz-only',
  't-pods': 'pods-only',
  't-proxy': 'proxy-user',
  't-none': 'nobody',
  't-broken': 'broken-authorizer',
};
const GRANTS: Record<string, string[]> = {
  'healthz-only': ['healthz'],
  'pods-only': ['pods'],
  'proxy-user': ['proxy'],
  nobody: [],
};

let dir: string;
let api: Server;
let server: KubeletServer;
let port: number;
let cri: CriClient;
const sars: { user: string; verb: string; subresource: string }[] = [];
const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'main', image: 'busybox' }] },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kts-authz-'));
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=k'],
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, '0.log'), '2026-12-03T11:06:24.100000000Z stdout F hello\n');
  api = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const o = JSON.parse(body || '{}');
      res.setHeader('Content-Type', 'application/json');
      if (req.url?.endsWith('/tokenreviews')) {
        const name = TOKENS[o.spec.token];
        res.end(
          JSON.stringify({
            status: name ? { authenticated: true, user: { username: name, groups: [] } } : {},
          }),
        );
        return;
      }
      const a = o.spec.resourceAttributes;
      sars.push({ user: o.spec.user, verb: a.verb, subresource: a.subresource });
      if (o.spec.user === 'broken-authorizer') {
        res.statusCode = 500;
        res.end('{"kind":"Status","message":"webhook down"}');
        return;
      }
      const allowed =
        a.resource === 'nodes' &&
        a.name === 'node-a' &&
        a.verb === 'get' &&
        (GRANTS[o.spec.user] ?? []).includes(a.subresource);
      res.end(JSON.stringify({ status: { allowed } }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const rest = RestClient.fromClientConfig({
    server: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    insecureSkipTLSVerify: false,
  });
  cri = new CriClient({ endpoint: `unix://${join(dir, 'no-cri.sock')}`, requestTimeoutMs: 500 });
  server = new KubeletServer({
    address: '127.0.0.1',
    port: 0,
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
    nodeName: 'node-a',
    auth: new KubeletAuth({
      rest,
      anonymous: false,
      x509: false,
      webhookAuthn: true,
      authnCacheTtlMs: 0,
      authorizationMode: 'Webhook',
      allowTtlMs: 0,
      denyTtlMs: 0,
    }),
    cri,
    pods: {
      list: () => [pod],
      find: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined),
      containers: async () => [{ id: 'c1', name: 'main', state: 'exited', logPath: join(dir, '0.log') }],
    },
    stats: new StatsProvider({
      nodeName: 'node-a',
      nodeStartTime: '',
      cri,
      pods: () => [],
      nodeUsage: () => Promise.reject(new Error('unused')),
      rootFs: () => Promise.reject(new Error('unused')),
    }),
    metrics: new KubeletMetrics('node-a'),
    log: silentLogger,
    enableDebuggingHandlers: true,
  });
  await server.listen();
  port = (server.server.address() as AddressInfo).port;
});

afterAll(() => {
  server?.close();
  api?.close();
  cri?.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(path: string, token?: string, method = 'GET'): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        rejectUnauthorized: false,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the kubelet API auth filter', () => {
  it('answers 401 without credentials and for an unknown token', async () => {
    expect((await call('/healthz')).code).toBe(401);
    expect((await call('/healthz', 'who?')).code).toBe(401);
  });

  it('lets nodes/healthz reach /healthz only, naming every subresource tried when it refuses', async () => {
    expect(await call('/healthz', 't-healthz')).toEqual({ code: 200, body: 'ok' });
    expect(await call('/pods', 't-healthz')).toEqual({
      code: 403,
      body: 'Forbidden (user=healthz-only, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    });
    expect(await call('/containerLogs/ns/p/main', 't-healthz')).toEqual({
      code: 403,
      body: 'Forbidden (user=healthz-only, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    });
  });

  it('lets nodes/pods list /pods but not /healthz or /stats', async () => {
    const pods = await call('/pods', 't-pods');
    expect(pods.code).toBe(200);
    expect(JSON.parse(pods.body).items.map((p: Pod) => p.metadata?.name)).toEqual(['p']);
    expect((await call('/healthz', 't-pods')).code).toBe(403);
    expect((await call('/stats/summary', 't-pods')).body).toBe(
      'Forbidden (user=pods-only, verb=get, resource=nodes, subresource(s)=[stats])\n',
    );
  });

  it('falls back to nodes/proxy for the fine-grained endpoints, asking the fine-grained one first', async () => {
    sars.length = 0;
    expect((await call('/healthz', 't-proxy')).code).toBe(200);
    expect((await call('/pods', 't-proxy')).code).toBe(200);
    const logs = await call('/containerLogs/ns/p/main', 't-proxy');
    expect(logs).toEqual({ code: 200, body: 'hello\n' });
    expect(sars).toEqual([
      { user: 'proxy-user', verb: 'get', subresource: 'healthz' },
      { user: 'proxy-user', verb: 'get', subresource: 'proxy' },
      { user: 'proxy-user', verb: 'get', subresource: 'pods' },
      { user: 'proxy-user', verb: 'get', subresource: 'proxy' },
      { user: 'proxy-user', verb: 'get', subresource: 'proxy' },
    ]);
  });

  it('stops at the first allowed subresource (a nodes/healthz user costs one review)', async () => {
    sars.length = 0;
    await call('/healthz', 't-healthz');
    expect(sars).toEqual([{ user: 'healthz-only', verb: 'get', subresource: 'healthz' }]);
  });

  it('authorizes the decoded path, as Go does (/%68ealthz is /healthz)', async () => {
    expect((await call('/%68ealthz', 't-healthz')).code).toBe(200);
    expect((await call('/%70ods', 't-healthz')).code).toBe(403);
  });

  it('answers 500 with upstream text when the authorizer fails', async () => {
    expect(await call('/healthz', 't-broken')).toEqual({
      code: 500,
      body: 'Authorization error (user=broken-authorizer, verb=get, resource=nodes, subresource=healthz)\n',
    });
  });

  it('denies HEAD for a get-only grant: upstream gives HEAD the empty verb', async () => {
    expect((await call('/healthz', 't-proxy', 'HEAD')).code).toBe(403);
  });
});
