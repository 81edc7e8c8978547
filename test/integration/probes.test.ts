import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Container, Event, ObjectList, Pod } from '../../src/api/types.js';
import { eventually, images, uniqueName } from '../helpers/env.js';
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
import { runtimeClient, runtimeView } from '../helpers/runtime.js';

// Probes, lifecycle hooks and native sidecars on a real node: kubelet-ts against the real
// apiserver and containerd, busybox httpd and nc answering HTTP and TCP probes.

const node = uniqueName('kts-probes');
const ns = uniqueName('kts-probes');
let rest: RestClient;
const dirs: string[] = [];

const container = (name: string, command: string[], extra: Partial<Container> = {}): Container => ({
  name,
  image: images.busybox,
  imagePullPolicy: 'IfNotPresent',
  command,
  ...extra,
});

const pod = (name: string, spec: Partial<NonNullable<Pod['spec']>>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: node, terminationGracePeriodSeconds: 2, containers: [], ...spec },
});

const condition = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);

async function events(name: string): Promise<Event[]> {
  const list = await rest.get<ObjectList<Event>>(`/api/v1/namespaces/${ns}/events`, {
    query: { fieldSelector: `involvedObject.name=${name}` },
  });
  return list.items;
}

/** Waits until the pod's events contain one matching `pred` (events are sent asynchronously). */
async function eventMatching(name: string, what: string, pred: (e: Event) => boolean): Promise<Event> {
  return eventually(what, async () => (await events(name)).find(pred), 30_000);
}

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
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
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('probes on containerd', () => {
  it('gates on an exec startup probe, then an HTTP readiness and a TCP liveness probe keep it Ready', async () => {
    await createPod(
      rest,
      ns,
      pod('web', {
        containers: [
          container('httpd', ['httpd', '-f', '-p', '8080', '-h', '/var/www'], {
            ports: [{ name: 'http', containerPort: 8080 }],
            startupProbe: { exec: { command: ['cat', '/var/www/index.html'] }, periodSeconds: 1 },
            readinessProbe: {
              httpGet: { port: 'http', path: '/index.html', httpHeaders: [{ name: 'X-Probe', value: '1' }] },
              periodSeconds: 1,
            },
            livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }),
        ],
      }),
    );
    const p = await waitPod(
      rest,
      ns,
      'web',
      'Ready',
      (x) => condition(x, 'Ready')?.status === 'True',
      90_000,
    );
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ started: true, ready: true, restartCount: 0 });
    expect(condition(p, 'ContainersReady')?.status).toBe('True');
    // A few more periods: the probes keep passing and nothing restarts.
    await new Promise((r) => setTimeout(r, 3_000));
    const later = await getPod(rest, ns, 'web');
    expect(later?.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const unhealthy = (await events('web')).filter(
      (e) => e.reason === 'Unhealthy' && /Liveness/.test(e.message ?? ''),
    );
    expect(unhealthy).toEqual([]);
  });

  it('flips readiness with an exec probe without restarting the container', async () => {
    await createPod(
      rest,
      ns,
      pod('flip', {
        containers: [
          container('c', ['sh', '-c', 'touch /tmp/ready; sleep 6; rm /tmp/ready; sleep 3600'], {
            readinessProbe: {
              exec: { command: ['cat', '/tmp/ready'] },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          }),
        ],
      }),
    );
    await waitPod(rest, ns, 'flip', 'Ready', (x) => condition(x, 'Ready')?.status === 'True', 60_000);
    const notReady = await waitPod(
      rest,
      ns,
      'flip',
      'not Ready',
      (x) => condition(x, 'Ready')?.status === 'False',
      60_000,
    );
    expect(condition(notReady, 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [c]',
    });
    expect(notReady.status?.phase).toBe('Running');
    expect(notReady.status?.containerStatuses?.[0]).toMatchObject({
      ready: false,
      started: true,
      restartCount: 0,
    });
    const ev = await eventMatching('flip', 'Readiness probe failed event', (e) => e.reason === 'Unhealthy');
    expect(ev).toMatchObject({
      type: 'Warning',
      message: "Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory\n",
      involvedObject: { fieldPath: 'spec.containers{c}' },
      source: { component: 'kubelet', host: node },
    });
  });

  it('restarts a container whose TCP liveness probe fails (nc stops listening): restartCount and events', async () => {
    await createPod(
      rest,
      ns,
      pod('live', {
        terminationGracePeriodSeconds: 30,
        containers: [
          container('c', ['sh', '-c', 'nc -ll -p 9000 -e true & sleep 4; kill $!; sleep 3600'], {
            livenessProbe: {
              tcpSocket: { port: 9000 },
              periodSeconds: 1,
              failureThreshold: 2,
              terminationGracePeriodSeconds: 1,
            },
          }),
        ],
      }),
    );
    const p = await waitPod(
      rest,
      ns,
      'live',
      'restarted',
      (x) => (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      90_000,
    );
    // sh is PID 1 and ignores SIGTERM: killed after the probe's grace (raised to 2 s).
    expect(p.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 137 });
    const unhealthy = await eventMatching('live', 'Liveness probe failed', (e) => e.reason === 'Unhealthy');
    expect(unhealthy.message).toMatch(
      /^Liveness probe failed: dial tcp 10\.244\.7\.\d+:9000: connect: connection refused$/,
    );
    const killing = await eventMatching('live', 'Killing', (e) => e.reason === 'Killing');
    expect(killing.message).toBe('Container c failed liveness probe, will be restarted');
  });

  it('runs a job-style pod with a sidecar to Succeeded', async () => {
    await createPod(
      rest,
      ns,
      pod('job', {
        restartPolicy: 'Never',
        initContainers: [
          container('side', ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], {
            restartPolicy: 'Always',
            startupProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
          }),
        ],
        containers: [container('main', ['sh', '-c', 'sleep 2; exit 0'])],
      }),
    );
    const p = await waitPod(rest, ns, 'job', 'Succeeded', (x) => x.status?.phase === 'Succeeded', 90_000);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(p.status?.initContainerStatuses?.[0]?.name).toBe('side');
    expect(p.status?.initContainerStatuses?.[0]?.state?.terminated).toBeTruthy();
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const started = (await events('job')).filter((e) => e.reason === 'Started').map((e) => e.message);
    expect(started).toEqual(['Started container side', 'Started container main']);
  });

  it('keeps a probed pod Ready and its container running across a kubelet restart', async () => {
    await createPod(
      rest,
      ns,
      pod('steady', {
        containers: [
          container('httpd', ['httpd', '-f', '-p', '8080', '-h', '/var/www'], {
            startupProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 2 },
            livenessProbe: { exec: { command: ['true'] }, periodSeconds: 2 },
          }),
        ],
      }),
    );
    const before = await waitPod(
      rest,
      ns,
      'steady',
      'Ready',
      (x) => condition(x, 'Ready')?.status === 'True',
    );
    const seen: string[] = [];
    const ac = new AbortController();
    const watching = rest
      .watch<Pod>(
        podPath(ns),
        { fieldSelector: 'metadata.name=steady', resourceVersion: before.metadata?.resourceVersion },
        (ev) => {
          const p = ev.object;
          seen.push(
            `${condition(p, 'Ready')?.status}/${p.status?.containerStatuses?.[0]?.started}/${p.status?.containerStatuses?.[0]?.ready}`,
          );
        },
        { signal: ac.signal },
      )
      .catch(() => {});
    // Past the 10 s after which a container counts as older than the (new) kubelet.
    await new Promise((r) => setTimeout(r, 10_000));
    const cri = runtimeClient();
    const rtBefore = await runtimeView(cri, before.metadata?.uid ?? '');
    await stopKubelet();
    await startKubelet(node);
    await new Promise((r) => setTimeout(r, 6_000));
    ac.abort();
    await watching;
    // The runtime still has the one sandbox and the one container it had, running.
    const rtAfter = await runtimeView(cri, before.metadata?.uid ?? '');
    cri.close();
    expect(rtAfter).toEqual(rtBefore);
    expect(rtAfter.containers.map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
    const after = await getPod(rest, ns, 'steady');
    expect(after?.status?.containerStatuses?.[0]?.containerID).toBe(
      before.status?.containerStatuses?.[0]?.containerID,
    );
    expect(after?.status?.containerStatuses?.[0]).toMatchObject({
      restartCount: 0,
      ready: true,
      started: true,
    });
    expect(seen.filter((s) => s !== 'True/true/true')).toEqual([]);
  });

  it('reports a failing postStart hook and runs preStop before stopping', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kts-it-prestop-'));
    dirs.push(out);
    await createPod(
      rest,
      ns,
      pod('hooks', {
        containers: [
          container('bad', ['sleep', '3600'], {
            lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo no >&2; exit 3'] } } },
          }),
          container('good', ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], {
            lifecycle: {
              postStart: { exec: { command: ['sh', '-c', 'echo hi > /tmp/started'] } },
              preStop: { httpGet: { port: 1, path: '/quit' } },
            },
            readinessProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1 },
          }),
          // A preStop that succeeds: its marker must exist before the container sees SIGTERM.
          container(
            'stopper',
            [
              'sh',
              '-c',
              'trap "if [ -f /out/prestop ]; then echo after-prestop > /out/term; else echo no-prestop > /out/term; fi; exit 0" TERM; sleep 3600 & wait',
            ],
            {
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo ran > /out/prestop'] } } },
              volumeMounts: [{ name: 'out', mountPath: '/out' }],
            },
          ),
        ],
        volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }],
      }),
    );
    const p = await waitPod(
      rest,
      ns,
      'hooks',
      'bad in PostStartHookError or CrashLoopBackOff, good ready',
      (x) => {
        const bad = x.status?.containerStatuses?.find((c) => c.name === 'bad');
        const good = x.status?.containerStatuses?.find((c) => c.name === 'good');
        return (bad?.restartCount ?? 0) >= 1 && good?.ready === true;
      },
      90_000,
    );
    const bad = p.status?.containerStatuses?.find((c) => c.name === 'bad');
    expect(['PostStartHookError', 'CrashLoopBackOff']).toContain(bad?.state?.waiting?.reason ?? 'running');
    const failed = await eventMatching(
      'hooks',
      'FailedPostStartHook',
      (e) => e.reason === 'FailedPostStartHook',
    );
    expect(failed).toMatchObject({
      type: 'Warning',
      message: 'PostStartHook failed',
      involvedObject: { fieldPath: 'spec.containers{bad}' },
    });
    await rest.delete(podPath(ns, 'hooks'));
    const preStop = await eventMatching(
      'hooks',
      'FailedPreStopHook',
      (e) => e.reason === 'FailedPreStopHook',
    );
    expect(preStop).toMatchObject({
      message: 'PreStopHook failed',
      involvedObject: { fieldPath: 'spec.containers{good}' },
    });
    // The successful preStop ran, and ran before SIGTERM reached the container.
    await eventually('stopper got SIGTERM', async () => (existsSync(join(out, 'term')) ? true : undefined));
    expect(readFileSync(join(out, 'prestop'), 'utf8')).toBe('ran\n');
    expect(readFileSync(join(out, 'term'), 'utf8')).toBe('after-prestop\n');
    const stopperEvents = (await events('hooks')).filter(
      (e) => e.involvedObject?.fieldPath === 'spec.containers{stopper}' && /Hook/.test(e.reason ?? ''),
    );
    expect(stopperEvents).toEqual([]);
  });
});
