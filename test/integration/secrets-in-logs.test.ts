import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { ObjectList, Pod } from '../../src/api/types.js';
import { eventually, images, localDir, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  getPod,
  podPath,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';
import { bareId, runtimeClient } from '../helpers/runtime.js';

// Secrets never reach the kubelet's log, even at --v=10: pods using a Secret through env,
// envFrom, a secret volume and the projected service-account token run, are deleted, and every
// line the kubelet wrote meanwhile is searched for the values (raw and base64).

const node = uniqueName('kts-secrets');
const ns = uniqueName('kts-secrets');
const logFile = join(localDir, 'logs', 'kubelet.log');
const password = `pw-${randomBytes(12).toString('hex')}`;
const apiKey = `key-${randomBytes(12).toString('hex')}`;
let rest: RestClient;
let logStart = 0;
const cri = runtimeClient();

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  logStart = (() => {
    try {
      return statSync(logFile).size;
    } catch {
      return 0;
    }
  })();
  process.env.KUBELET_V = '10';
  try {
    await startKubelet(node);
  } finally {
    delete process.env.KUBELET_V;
  }
  await createNamespace(rest, ns);
  await rest.create(`/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds' },
    stringData: { password, apikey: apiKey },
  });
}, 300_000);

afterAll(async () => {
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await eventually(
    'namespace pods gone',
    async () => ((await rest.get<ObjectList<Pod>>(podPath(ns))).items.length === 0 ? true : undefined),
    60_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
  cri.close();
}, 120_000);

describe('secrets in the kubelet log at --v=10', () => {
  it('logs none of the secret values or the service-account token', async () => {
    await createPod(rest, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uses-secrets' },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 's', secret: { secretName: 'creds' } }],
        containers: [
          {
            name: 'c',
            image: images.busybox,
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '3600'],
            env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
            envFrom: [{ prefix: 'S_', secretRef: { name: 'creds' } }],
            volumeMounts: [{ name: 's', mountPath: '/s' }],
          },
        ],
      },
    });
    const p = await waitPod(
      rest,
      ns,
      'uses-secrets',
      'Running',
      (x) => x.status?.phase === 'Running',
      90_000,
    );
    const id = bareId(p.status?.containerStatuses?.[0]?.containerID);
    // The values did go through the kubelet.
    const env = (await cri.execSync(id, ['env'], 10)).stdout.toString('utf8');
    expect(env).toContain(`PASSWORD=${password}`);
    expect(env).toContain(`S_apikey=${apiKey}`);
    expect((await cri.execSync(id, ['cat', '/s/password'], 10)).stdout.toString('utf8')).toBe(password);
    const token = (
      await cri.execSync(id, ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'], 10)
    ).stdout
      .toString('utf8')
      .trim();
    expect(token.split('.')).toHaveLength(3);

    await rest.delete(podPath(ns, 'uses-secrets'));
    await eventually(
      'pod gone',
      async () => ((await getPod(rest, ns, 'uses-secrets')) ? undefined : true),
      60_000,
    );

    const log = readFileSync(logFile).subarray(logStart).toString('utf8');
    const lines = log.split('\n').length;
    // The part of the log this kubelet wrote (it registered the node and handled the pod).
    expect(log).toContain(node);
    expect(lines).toBeGreaterThan(10);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const needles: Record<string, string> = {
      password,
      apiKey,
      'password (base64)': b64(password),
      'apiKey (base64)': b64(apiKey),
      'token signature': token.split('.')[2] ?? token,
      'token payload': token.split('.')[1] ?? token,
    };
    const found = Object.entries(needles)
      .filter(([, v]) => log.includes(v))
      .map(([k]) => k);
    console.log(
      `searched ${lines} kubelet log lines at --v=10 for ${Object.keys(needles).length} secret values`,
    );
    expect(found).toEqual([]);
  });
});
