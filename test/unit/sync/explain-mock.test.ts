import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { renderExplain, renderWaterfall } from '../../../src/timeline/render.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Issue 18: for each situation a user asks "why is my pod slow / stuck?" about, the timeline
// and the explain say the cause in words — on the whole sync core against the CRI mock. The
// expected wording follows upstream's reasons (CrashLoopBackOff, OutOfmemory, the Killing
// message "Container app failed liveness probe, will be restarted").

const IMAGE = 'localhost:5999/kubelet-ts/busybox:1.36';
let mock: CriMock;
let h: KubeletHarness;

beforeEach(async () => {
  mock = await CriMock.start({ journalLimit: 100_000 });
  h = await KubeletHarness.start(mock.endpoint);
});
afterEach(async () => {
  await h.stop();
  await mock.stop();
});

const uid = (p: Pod) => p.metadata?.uid ?? '';
const explain = (p: Pod) => h.debug.explain('default', p.metadata?.name ?? '');
const timeline = (p: Pod) => h.timeline.get(uid(p))?.entries ?? [];
const runtime = (p: Pod, name: string) =>
  h.loop.runtimeCache.get(uid(p))?.containers.find((c) => c.name === name);

describe('explain and timeline on the sync core', () => {
  it('a slow image: the pull is in progress, then the slowest step of the waterfall', async () => {
    const slow = 'localhost:5999/kubelet-ts/slow:1.0';
    mock.setPullBehaviour(slow, { kind: 'delay', ms: 1_500 });
    const pod = testPod('slow', {
      containers: [{ name: 'app', image: slow, command: ['sleep', 'infinity'] }],
    });
    h.setPods([pod]);

    const pulling = await h.waitFor('the pull to be in progress', () => {
      const x = explain(pod);
      return x?.summary.startsWith('in progress: pull') ? x : undefined;
    });
    expect(pulling.summary).toMatch(
      /^in progress: pull localhost:5999\/kubelet-ts\/slow:1\.0 for app, for \d+s/,
    );
    expect(renderExplain(pulling!)).toContain(
      '=> in progress: pull localhost:5999/kubelet-ts/slow:1.0 for app',
    );

    await h.waitFor('app running', () => runtime(pod, 'app')?.state === 'running');
    const pull = timeline(pod).find((e) => e.kind === 'image' && e.step.startsWith('pull'));
    expect(pull).toMatchObject({ container: 'app', result: 'ok' });
    expect(pull?.durationMs).toBeGreaterThanOrEqual(1_400);
    expect(pull?.durationMs).toBeLessThan(30_000);
    const steps = timeline(pod).map((e) => `${e.kind} ${e.step}`);
    for (const s of [
      'watch ADD',
      'admission admitted',
      'worker SyncPod',
      'cri RunPodSandbox',
      'cri CreateContainer',
      'cri StartContainer',
    ]) {
      expect(steps).toContain(s);
    }
    const text = renderWaterfall(h.timeline.get(uid(pod))!);
    const slowest = text.split('\n').find((l) => l.includes('◀ slowest'));
    expect(slowest).toContain('pull localhost:5999/kubelet-ts/slow:1.0 [app]');
  });

  it('an image that cannot be pulled: the pull failure, then its back-off', async () => {
    const missing = 'localhost:5999/kubelet-ts/missing:1.0';
    mock.setPullBehaviour(missing, { kind: 'fail', message: 'registry says no' });
    const pod = testPod('nopull', {
      containers: [{ name: 'app', image: missing, command: ['sleep', 'infinity'] }],
    });
    h.setPods([pod]);
    const x = await h.waitFor('the pull failure', () => {
      const e = explain(pod);
      return e?.summary.includes('ErrImagePull') || e?.summary.includes('ImagePullBackOff') ? e : undefined;
    });
    expect(x.summary).toMatch(/^container app: (ErrImagePull|ImagePullBackOff): .*registry says no/);
    expect(timeline(pod)).toContainEqual(
      expect.objectContaining({
        kind: 'image',
        step: `pull ${missing}`,
        container: 'app',
        result: 'ErrImagePull',
      }),
    );
  });

  it('a failing liveness probe: the kill, the probe threshold and when it failed', async () => {
    mock.onExec('app', (cmd) => (cmd[0] === 'check' ? { exitCode: 1, stdout: 'unhealthy' } : undefined));
    const pod = testPod('liveness', {
      containers: [
        {
          name: 'app',
          image: IMAGE,
          command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
          livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    h.setPods([pod]);
    await h.waitFor('a restart', () => (runtime(pod, 'app')?.restartCount ?? 0) >= 1, 20_000);

    const probe = timeline(pod).find((e) => e.kind === 'probe' && e.step === 'liveness Failure');
    expect(probe).toMatchObject({ container: 'app', result: 'Failure' });
    const x = explain(pod)!;
    expect(x.containers.app).toMatch(
      /restarted \d+ time\(s\); last killed at \S+: Container app failed liveness probe, will be restarted$/,
    );
  });

  it('CrashLoopBackOff: the back-off, the time left and the exit code', async () => {
    const pod = testPod('crash', {
      containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'exit 3'] }],
    });
    h.setPods([pod]);
    const x = await h.waitFor(
      'the back-off',
      () => {
        const e = explain(pod);
        return e?.summary.includes('CrashLoopBackOff') ? e : undefined;
      },
      20_000,
    );
    expect(x.summary).toMatch(
      /^container app: back-off 10s restarting failed container \(CrashLoopBackOff\), \d+s left; it exited with code 3 at \S+Z$/,
    );
    expect(x.actions).toContainEqual({
      action: 'wait',
      container: 'app',
      why: x.summary.slice('container app: '.length),
    });
    expect(x.containers.app).toMatch(/^exited with code 3 .*restarted 1 time\(s\)/);
    // Explain predicts the back-off; the worker's next pass records its BackOff event.
    const backoff = await h.waitFor('the BackOff event', () =>
      timeline(pod).find((e) => e.kind === 'event' && e.step === 'BackOff'),
    );
    expect(backoff?.detail).toMatch(/^Back-off restarting failed container app in pod crash_default/);
  });

  it('an admission refusal: the reason with the amounts in units', async () => {
    const pod = testPod('big', {
      containers: [
        {
          name: 'app',
          image: IMAGE,
          command: ['sleep', 'infinity'],
          resources: { requests: { memory: '16Gi' } },
        },
      ],
    });
    h.setPods([pod]);
    await h.waitFor('the rejection', () => h.status(uid(pod))?.reason === 'OutOfmemory');
    const x = explain(pod)!;
    expect(x.state).toBe('not admitted');
    expect(x.summary).toBe(
      'not admitted: OutOfmemory, 16Gi memory requested, 8Gi allocatable left (0 of 8Gi used by other pods)',
    );
    expect(timeline(pod)).toContainEqual(
      expect.objectContaining({ kind: 'admission', step: 'rejected', result: 'OutOfmemory' }),
    );
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);
  });

  it('an init container that does not complete blocks the app containers', async () => {
    const pod = testPod('init', {
      initContainers: [{ name: 'migrate', image: IMAGE, command: ['sleep', 'infinity'] }],
    });
    h.setPods([pod]);
    await h.waitFor('migrate running', () => runtime(pod, 'migrate')?.state === 'running');
    const x = explain(pod)!;
    expect(x.summary).toMatch(
      /^blocked: init container migrate is running and has not completed \(running since \S+Z\)$/,
    );
    expect(x.containers.app).toBe('not created yet');
    expect(runtime(pod, 'app')).toBeUndefined();
  });

  it('a dry run: admission, QoS, the first plan and the sandbox config, without doing anything', () => {
    const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
    const pod = testPod('dry', {
      initContainers: [{ name: 'migrate', image: IMAGE, command: ['true'], resources }],
      containers: [{ name: 'app', image: IMAGE, resources }],
    });
    const r = h.debug.dryRun(pod);
    expect(r).toMatchObject({
      pod: 'default/dry',
      admission: 'admitted',
      qosClass: 'Guaranteed',
      actions: 'create sandbox (attempt 0), start init migrate',
      reasons: {
        sandbox: 'the pod has no sandbox yet',
        migrate: 'the first init container, in a new sandbox (the pod has no sandbox yet)',
      },
      sandboxConfig: { metadata: { name: 'dry', namespace: 'default', attempt: 0 } },
    });
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);
  });
});
