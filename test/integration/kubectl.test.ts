import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Pod } from '../../src/api/types.js';
import {
  adminKubeconfigPath,
  eventually,
  images,
  k8sBin,
  localDir,
  repoRoot,
  uniqueName,
} from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';

// What users do with kubectl against pods on our node — through the real apiserver, which
// reaches the kubelet API on :10250 with its kubelet-client certificate — and what the kubelet
// API refuses to strangers.

const run = promisify(execFile);
const node = uniqueName('kts-kctl');
const ns = uniqueName('kts-kctl');
let rest: RestClient;

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(join(k8sBin, 'kubectl'), ['--kubeconfig', adminKubeconfigPath, '-n', ns, ...args], {
      timeout: 60_000,
    });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

const pod = (name: string, command: string[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 2,
    containers: [{ name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command }],
    ...extra,
  },
});
const isRunning = (p: Pod) =>
  p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready === true;

/** A raw request to the kubelet API on :10250 with an optional client certificate. */
function kubeletGet(path: string, method = 'GET', cert?: { cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: 10250, path, method, rejectUnauthorized: false, ...(cert ?? {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  process.env.KUBELET_SYNC_FREQUENCY = '10s';
  await startKubelet(node);
  delete process.env.KUBELET_SYNC_FREQUENCY;
  await createNamespace(rest, ns);
  await createPod(
    rest,
    ns,
    pod('talker', ['sh', '-c', 'echo hello; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done']),
  );
  await waitPod(rest, ns, 'talker', 'Running', isRunning);
}, 300_000);

afterAll(async () => {
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await eventually(
    'pods gone',
    async () =>
      (await rest.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/pods`)).items.length === 0
        ? true
        : undefined,
    60_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
}, 120_000);

describe('kubectl against pods on kubelet-ts', () => {
  it('kubectl logs with --tail, --timestamps and --limit-bytes', async () => {
    await eventually('some lines', async () =>
      (await kubectl('logs', 'talker')).stdout.includes('line 3') ? true : undefined,
    );
    const all = await kubectl('logs', 'talker');
    expect(all.stdout.startsWith('hello\nline 1\nline 2\n')).toBe(true);
    const tail = await kubectl('logs', 'talker', '--tail=2');
    expect(tail.stdout.trimEnd().split('\n')).toHaveLength(2);
    const ts = await kubectl('logs', 'talker', '--timestamps', '--tail=1');
    expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+\n$/);
    const limited = await kubectl('logs', 'talker', '--limit-bytes=3');
    expect(limited.stdout).toBe('hel');
  });

  it('kubectl logs -f follows new lines', async () => {
    const child: ChildProcess = spawn(join(k8sBin, 'kubectl'), [
      '--kubeconfig',
      adminKubeconfigPath,
      '-n',
      ns,
      'logs',
      '-f',
      '--tail=1',
      'talker',
    ]);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    try {
      await eventually(
        'three followed lines',
        async () => (out.trimEnd().split('\n').length >= 3 ? true : undefined),
        20_000,
      );
    } finally {
      child.kill();
    }
    const nums = out
      .trimEnd()
      .split('\n')
      .map((l) => Number(l.replace('line ', '')));
    expect(nums[1]).toBe((nums[0] ?? 0) + 1);
  });

  it('kubectl logs --previous shows the last terminated instance', async () => {
    await createPod(
      rest,
      ns,
      pod('restarts', ['sh', '-c', 'echo run-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1']),
    );
    await waitPod(
      rest,
      ns,
      'restarts',
      'a restart',
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      60_000,
    );
    const prev = await kubectl('logs', 'restarts', '--previous');
    expect(prev.code).toBe(0);
    expect(prev.stdout).toMatch(/^run-[0-9a-f-]{36}\n$/);
  });

  it('kubectl exec runs commands and propagates the exit code', async () => {
    const ok = await kubectl('exec', 'talker', '--', 'sh', '-c', 'echo exec-$((6*7))');
    expect(ok.stdout).toBe('exec-42\n');
    const bad = await kubectl('exec', 'talker', '--', 'sh', '-c', 'exit 3');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('command terminated with exit code 3');
  });

  it('kubectl port-forward reaches a pod port', async () => {
    await createPod(rest, ns, pod('web', ['httpd', '-f', '-p', '8080', '-h', '/var/www']));
    await waitPod(rest, ns, 'web', 'Running', isRunning);
    const port = 18_000 + Math.floor(Math.random() * 1000);
    const pf = spawn(join(k8sBin, 'kubectl'), [
      '--kubeconfig',
      adminKubeconfigPath,
      '-n',
      ns,
      'port-forward',
      'pod/web',
      `${port}:8080`,
    ]);
    try {
      const body = await eventually(
        'a page through the forwarded port',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/`);
          return res.ok ? await res.text() : undefined;
        },
        20_000,
      );
      expect(body).toContain('kubelet-ts');
    } finally {
      pf.kill();
    }
  });

  it('serves /stats/summary and /metrics through the apiserver node proxy', async () => {
    const summary = JSON.parse(
      (await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/stats/summary`)).stdout,
    ) as {
      node: { nodeName: string; memory: { workingSetBytes: number } };
      pods: {
        podRef: { name: string; namespace: string };
        containers: { name: string; memory: { workingSetBytes: number } }[];
      }[];
    };
    expect(summary.node.nodeName).toBe(node);
    expect(summary.node.memory.workingSetBytes).toBeGreaterThan(0);
    const talker = summary.pods.find((p) => p.podRef.name === 'talker' && p.podRef.namespace === ns);
    expect(talker?.containers[0]?.memory.workingSetBytes).toBeGreaterThan(0);
    const metrics = (await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/metrics`)).stdout;
    expect(metrics).toMatch(/^kubelet_running_pods \d+$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('updates a configMap volume in a running pod and honours secret file modes', async () => {
    await rest.create(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { greeting: 'v1' },
    });
    await rest.create(`/api/v1/namespaces/${ns}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { a: 'secret-a', b: 'secret-b' },
    });
    const p = pod('vols', ['sleep', '3600']);
    p.spec!.volumes = [
      { name: 'cm', configMap: { name: 'cm' } },
      {
        name: 's',
        secret: {
          secretName: 's',
          defaultMode: 0o400,
          items: [
            { key: 'a', path: 'a' },
            { key: 'b', path: 'sub/b', mode: 0o600 },
          ],
        },
      },
    ];
    p.spec!.containers[0]!.volumeMounts = [
      { name: 'cm', mountPath: '/cm' },
      { name: 's', mountPath: '/s' },
    ];
    await createPod(rest, ns, p);
    await waitPod(rest, ns, 'vols', 'Running', isRunning);
    expect((await kubectl('exec', 'vols', '--', 'cat', '/cm/greeting')).stdout).toBe('v1');
    expect((await kubectl('exec', 'vols', '--', 'stat', '-L', '-c', '%a', '/s/a', '/s/sub/b')).stdout).toBe(
      '400\n600\n',
    );
    await rest.patch(`/api/v1/namespaces/${ns}/configmaps/cm`, { data: { greeting: 'v2' } }, 'merge');
    await eventually(
      'the new configMap value inside the pod',
      async () =>
        (await kubectl('exec', 'vols', '--', 'cat', '/cm/greeting')).stdout === 'v2' ? true : undefined,
      60_000,
    );
  });

  it('refuses anonymous (401) and unauthorized (403) callers on every endpoint', async () => {
    const paths = [
      '/pods',
      '/healthz',
      '/metrics',
      '/stats/summary',
      `/containerLogs/${ns}/talker/c`,
      `/exec/${ns}/talker/c?command=id&output=1`,
    ];
    for (const path of paths) expect([path, await kubeletGet(path)]).toEqual([path, 401]);
    // Another node's credentials authenticate, but nodes may not use this node's API.
    const other = uniqueName('kts-other');
    await run('bash', [join(repoRoot, 'hack', 'pki.sh'), 'node', other]);
    const cert = {
      cert: readFileSync(join(localDir, 'pki', `node-${other}.crt`)),
      key: readFileSync(join(localDir, 'pki', `node-${other}.key`)),
    };
    for (const path of paths) expect([path, await kubeletGet(path, 'GET', cert)]).toEqual([path, 403]);
    expect(await kubeletGet('/run/x/y/z', 'POST', cert)).toBe(403);
  });
});
