import * as https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { ObjectList, Pod } from '../../src/api/types.js';
import { eventually, images, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  podPath,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';

// The kubelet API as a security boundary, with the real apiserver's TokenReview and RBAC behind
// SubjectAccessReview: each ServiceAccount is granted one nodes/<subresource> and calls :10250
// with its token. Which subresources each path needs is upstream's (pkg/kubelet/server/auth.go
// at v1.37, KubeletFineGrainedAuthz GA): the fine-grained one first, nodes/proxy as fallback.

const node = uniqueName('kts-authz');
const ns = uniqueName('kts-authz');
const tag = uniqueName('kts-authz');
let rest: RestClient;

/** The paths under test and the subresources upstream accepts for each (any one suffices). */
const PATHS: Record<string, string[]> = {
  '/healthz': ['healthz', 'proxy'],
  '/pods': ['pods', 'proxy'],
  '/stats/summary': ['stats'],
  '/metrics': ['metrics'],
  '/metrics/probes': ['metrics'],
  [`/containerLogs/${ns}/talker/c`]: ['proxy'],
  [`/exec/${ns}/talker/c?command=true&output=1`]: ['proxy'],
  '/logs/': ['log'],
  '/configz': ['configz', 'proxy'],
};
/** What an authorized GET gets where it is not 200 (no upgrade; endpoints kubelet-ts lacks). */
const AUTHORIZED: Record<string, number> = {
  [`/exec/${ns}/talker/c?command=true&output=1`]: 400,
  '/logs/': 404,
  '/configz': 404,
};
/** One ServiceAccount per grant (verb get); "nobody" has none. */
const GRANTS: Record<string, string[]> = {
  healthz: ['healthz'],
  pods: ['pods'],
  stats: ['stats'],
  metrics: ['metrics'],
  log: ['log'],
  configz: ['configz'],
  proxy: ['proxy'],
  nobody: [],
};
const tokens: Record<string, string> = {};

function kubelet(path: string, token?: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: 10250,
        path,
        rejectUnauthorized: false,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          if (body.length < 65_536) body += d;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const sa = (name: string) => `system:serviceaccount:${ns}:${name}`;

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
  await createPod(rest, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'talker' },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'c',
          image: images.busybox,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo hello-authz; sleep 3600'],
        },
      ],
    },
  });
  for (const [name, subs] of Object.entries(GRANTS)) {
    await rest.create(`/api/v1/namespaces/${ns}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name },
    });
    if (subs.length > 0) {
      await rest.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `${tag}-${name}` },
        rules: [{ apiGroups: [''], resources: subs.map((s) => `nodes/${s}`), verbs: ['get'] }],
      });
      await rest.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${tag}-${name}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${tag}-${name}` },
        subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
      });
    }
    const tr = await rest.create<{ status: { token: string } }>(
      `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    );
    tokens[name] = tr.status.token;
  }
  // The kubelet caches denials for 30 s: wait until RBAC answers for every grant first.
  for (const [name, subs] of Object.entries(GRANTS)) {
    for (const sub of subs) {
      await eventually(`RBAC allows ${name} nodes/${sub}`, async () => {
        const r = await rest.create<{ status?: { allowed?: boolean } }>(
          '/apis/authorization.k8s.io/v1/subjectaccessreviews',
          {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: sa(name),
              groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
              resourceAttributes: {
                verb: 'get',
                resource: 'nodes',
                subresource: sub,
                name: node,
                version: 'v1',
              },
            },
          },
        );
        return r.status?.allowed ? true : undefined;
      });
    }
  }
  await waitPod(rest, ns, 'talker', 'Running', (p) => p.status?.phase === 'Running');
}, 300_000);

afterAll(async () => {
  for (const name of Object.keys(GRANTS)) {
    await rest
      ?.delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${tag}-${name}`)
      .catch(() => {});
    await rest?.delete(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${tag}-${name}`).catch(() => {});
  }
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await eventually(
    'namespace pods gone',
    async () => ((await rest.get<ObjectList<Pod>>(podPath(ns))).items.length === 0 ? true : undefined),
    60_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
}, 120_000);

describe('kubelet API authorization with RBAC (fine-grained, nodes/proxy fallback)', () => {
  it('refuses every endpoint to anonymous callers (401)', async () => {
    for (const path of Object.keys(PATHS)) expect([path, (await kubelet(path)).code]).toEqual([path, 401]);
  });

  it('a ServiceAccount granted only nodes/healthz gets /healthz but 403 on /pods and /containerLogs', async () => {
    const t = tokens.healthz;
    expect(await kubelet('/healthz', t)).toEqual({ code: 200, body: 'ok' });
    expect(await kubelet('/pods', t)).toEqual({
      code: 403,
      body: `Forbidden (user=${sa('healthz')}, verb=get, resource=nodes, subresource(s)=[pods proxy])\n`,
    });
    expect(await kubelet(`/containerLogs/${ns}/talker/c`, t)).toEqual({
      code: 403,
      body: `Forbidden (user=${sa('healthz')}, verb=get, resource=nodes, subresource(s)=[proxy])\n`,
    });
  });

  it('a ServiceAccount with nodes/proxy reaches /healthz, /pods and /containerLogs', async () => {
    const t = tokens.proxy;
    expect((await kubelet('/healthz', t)).code).toBe(200);
    const pods = await kubelet('/pods', t);
    expect(pods.code).toBe(200);
    expect((JSON.parse(pods.body) as ObjectList<Pod>).items.map((p) => p.metadata?.name)).toContain('talker');
    const logs = await eventually('talker log', async () => {
      const r = await kubelet(`/containerLogs/${ns}/talker/c`, t);
      return r.body.includes('hello-authz') ? r : undefined;
    });
    expect(logs.code).toBe(200);
  });

  it('each grant opens exactly the endpoints whose subresources include it', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [name, grants] of Object.entries(GRANTS)) {
      for (const [path, subs] of Object.entries(PATHS)) {
        const expected = subs.some((s) => grants.includes(s)) ? (AUTHORIZED[path] ?? 200) : 403;
        want.push(`${name} ${path} ${expected}`);
        got.push(`${name} ${path} ${(await kubelet(path, tokens[name])).code}`);
      }
    }
    expect(got).toEqual(want);
  });
});
