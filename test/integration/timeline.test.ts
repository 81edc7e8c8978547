import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Pod } from '../../src/api/types.js';
import { adminKubeconfigPath, eventually, images, k8sBin, repoRoot, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';

// Issue 18 through the real apiserver: a pod's timeline and explain reached the way a user does,
// through the apiserver's node proxy (kubectl get --raw, and the kubelet-ts CLI with the user's
// kubeconfig), for a running pod, a crash-looping one, one admission refuses and one whose init
// container does not finish.

const run = promisify(execFile);
const node = uniqueName('kts-tl');
const ns = uniqueName('kts-tl');
let rest: RestClient;

async function exec(bin: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(bin, args, { timeout: 60_000 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}
const kubectl = (...args: string[]) =>
  exec(join(k8sBin, 'kubectl'), ['--kubeconfig', adminKubeconfigPath, ...args]);
const cli = (...args: string[]) =>
  exec(process.execPath, [
    join(repoRoot, 'dist', 'src', 'main.js'),
    ...args,
    '-n',
    ns,
    '--kubeconfig',
    adminKubeconfigPath,
  ]);

const pod = (name: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 1,
    containers: [
      { name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
    ],
    ...spec,
  },
});

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
  await createPod(rest, ns, pod('web'));
  await waitPod(rest, ns, 'web', 'Running', (p) => p.status?.containerStatuses?.[0]?.ready === true);
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

describe('pod timeline and explain through the apiserver node proxy', () => {
  it('kubectl get --raw .../proxy/debug/pods/NS/NAME/timeline returns the recorded steps', async () => {
    const r = await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/debug/pods/${ns}/web/timeline`);
    expect(r.stderr).toBe('');
    const t = JSON.parse(r.stdout) as {
      kind: string;
      namespace: string;
      name: string;
      entries: { kind: string; step: string; container?: string; result?: string; durationMs?: number }[];
    };
    expect(t).toMatchObject({ kind: 'PodTimeline', namespace: ns, name: 'web' });
    const has = (kind: string, step: string, container?: string) =>
      t.entries.find(
        (e) => e.kind === kind && e.step === step && (container === undefined || e.container === container),
      );
    expect(has('watch', 'ADD')).toBeDefined();
    expect(has('admission', 'admitted')).toBeDefined();
    expect(has('cri', 'RunPodSandbox')).toMatchObject({ result: 'ok' });
    expect(has('cri', 'CreateContainer', 'c')).toMatchObject({ result: 'ok' });
    expect(has('cri', 'StartContainer', 'c')).toMatchObject({ result: 'ok' });
    expect(has('image', `image ${images.busybox}`, 'c')).toMatchObject({
      detail: 'already present on machine',
    });
    expect(has('status', 'PATCH status')?.result).toBe('ok');
    expect(has('cri', 'RunPodSandbox')?.durationMs).toBeLessThan(120_000);
  });

  it('the CLI prints a waterfall with the slowest step marked', async () => {
    const r = await cli('timeline', 'pod', 'web');
    // What a user sees (the README's example comes from this output).
    console.log(`$ kubelet-ts timeline pod web -n ${ns}\n${r.stdout}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node ${node}\npod ${ns}/web (uid `);
    expect(r.stdout).toMatch(/RunPodSandbox +\|[ █]+\|/);
    expect(r.stdout.split('\n').filter((l) => l.includes('◀ slowest'))).toHaveLength(1);
    const text = await kubectl(
      'get',
      '--raw',
      `/api/v1/nodes/${node}/proxy/debug/pods/${ns}/web/explain?format=text`,
    );
    expect(text.stdout).toContain('=> nothing to do: every container is as it should be');
  });

  it('the pod start SLI histogram comes from the timeline', async () => {
    const line = await eventually(
      'an observation',
      async () => {
        const r = await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/metrics`);
        return /^kubelet_pod_start_sli_duration_seconds_count [1-9]/m.exec(r.stdout)?.[0];
      },
      30_000,
    );
    expect(line).toBeDefined();
    const t = await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/debug/pods/${ns}/web/timeline`);
    const observed = (JSON.parse(t.stdout) as { entries: { step: string; detail?: string }[] }).entries.find(
      (e) => e.step === 'observed running',
    );
    expect(observed?.detail).toMatch(
      /^started \d+\.\d{3}s after creation, SLI \d+\.\d{3}s \(pulls \d+\.\d{3}s, init/,
    );
  });

  it('CrashLoopBackOff: explain names the back-off, the time left and the exit code', async () => {
    await createPod(
      rest,
      ns,
      pod('crash', { containers: [{ name: 'c', image: images.busybox, command: ['sh', '-c', 'exit 3'] }] }),
    );
    const out = await eventually(
      'the back-off',
      async () => {
        const r = await cli('explain', 'pod', 'crash');
        return r.stdout.includes('CrashLoopBackOff') ? r.stdout : undefined;
      },
      90_000,
    );
    console.log(`$ kubelet-ts explain pod crash -n ${ns}\n${out}`);
    expect(out).toMatch(
      /=> container c: back-off \d+s restarting failed container \(CrashLoopBackOff\), \d+s left; it exited with code 3 at /,
    );
  });

  it('an admission refusal: explain says which resource and how much is left', async () => {
    // Bound directly (no scheduler), as a user running the kubelet's own admission would see it.
    const big = pod('big', {
      nodeName: node,
      containers: [
        {
          name: 'c',
          image: images.busybox,
          command: ['sleep', '3600'],
          resources: { requests: { memory: '64Ti' } },
        },
      ],
    });
    delete big.spec?.nodeSelector;
    await createPod(rest, ns, big);
    await waitPod(rest, ns, 'big', 'rejected', (p) => p.status?.reason === 'OutOfmemory');
    const r = await cli('explain', 'pod', 'big');
    expect(r.stdout).toMatch(/=> not admitted: OutOfmemory, 64Ti memory requested, \S+ allocatable left/);
  });

  it('an init container that does not complete: explain says the app waits for it', async () => {
    await createPod(
      rest,
      ns,
      pod('init', {
        initContainers: [{ name: 'migrate', image: images.busybox, command: ['sleep', '3600'] }],
      }),
    );
    const out = await eventually(
      'the init container running',
      async () => {
        const r = await cli('explain', 'pod', 'init');
        return r.stdout.includes('blocked:') ? r.stdout : undefined;
      },
      60_000,
    );
    console.log(`$ kubelet-ts explain pod init -n ${ns}\n${out}`);
    expect(out).toMatch(
      /=> blocked: init container migrate is running and has not completed \(running since \S+Z\)/,
    );
  });
});
