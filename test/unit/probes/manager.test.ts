import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CriError } from '../../../src/cri/errors.js';
import {
  type ExecRunner,
  type ProbeContainer,
  ProbeManager,
  type ProbePod,
  type ProbePodStatus,
  type ResultUpdate,
} from '../../../src/probes/index.js';

// The probe manager and its workers with fake timers: thresholds, startup gating, hold after a
// liveness failure, no pile-up, bounded concurrency, and stopping.

interface Recorded {
  reason: string;
  message: string;
  fieldPath?: string;
}

type Script = (cmd: string[], containerId: string) => { exitCode: number; out?: string; delayMs?: number };

let statuses: Map<string, ProbePodStatus>;
let events: Recorded[];
let changes: ResultUpdate[];
let execCalls: { cmd: string[]; id: string; timeout: number }[];
let inFlight: number;
let maxInFlight: number;
let script: Script;

const exec: ExecRunner = {
  execSync: async (id, cmd, timeout) => {
    execCalls.push({ cmd, id, timeout });
    const r = script(cmd, id);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
      return { stdout: Buffer.from(r.out ?? ''), stderr: Buffer.alloc(0), exitCode: r.exitCode };
    } finally {
      inFlight--;
    }
  },
};

function manager(extra: { maxConcurrent?: number } = {}): ProbeManager {
  return new ProbeManager({
    exec,
    events: {
      event: (ref, _type, reason, message) => events.push({ reason, message, fieldPath: ref.fieldPath }),
    },
    podStatus: (uid) => statuses.get(uid),
    onChange: (_uid, u) => changes.push(u),
    ...extra,
  });
}

const execProbe = (name: string, extra: Record<string, number> = {}) => ({
  exec: { command: [name] },
  periodSeconds: 1,
  ...extra,
});

function pod(
  uid: string,
  c: ProbeContainer,
  extra: Partial<NonNullable<ProbePod['metadata']>> = {},
): ProbePod {
  return { metadata: { name: uid, namespace: 'ns', uid, ...extra }, spec: { containers: [c] } };
}

function running(uid: string, name: string, id: string, started: boolean): void {
  statuses.set(uid, {
    phase: 'Running',
    podIP: '10.0.0.9',
    containerStatuses: [
      {
        name,
        containerID: `containerd://${id}`,
        started,
        state: { running: { startedAt: new Date(Date.now()).toISOString() } },
      },
    ],
  });
}

const calls = (name: string) => execCalls.filter((c) => c.cmd[0] === name).length;

beforeEach(() => {
  vi.useFakeTimers();
  statuses = new Map();
  events = [];
  changes = [];
  execCalls = [];
  inFlight = 0;
  maxInFlight = 0;
  script = () => ({ exitCode: 0 });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('probe workers', () => {
  it('runs liveness only after startup succeeded, publishes at the thresholds, then holds', async () => {
    const m = manager();
    await vi.advanceTimersByTimeAsync(30_000); // the kubelet started long ago: no start-up jitter
    let startupRuns = 0;
    script = (cmd) => {
      if (cmd[0] === 'startup') return { exitCode: ++startupRuns < 3 ? 1 : 0, out: 'not yet' };
      return { exitCode: 1, out: 'dead' };
    };
    running('p1', 'app', 'c1', false);
    m.addPod(
      pod('p1', {
        name: 'app',
        startupProbe: execProbe('startup', { failureThreshold: 5 }),
        livenessProbe: execProbe('live', { failureThreshold: 2 }),
      }),
    );
    await vi.advanceTimersByTimeAsync(10);
    expect(m.started('c1')).toBe(false);
    expect(m.startup('c1')).toBeUndefined();
    expect(m.liveness('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls('startup')).toBe(3);
    expect(calls('live')).toBe(0);
    expect(m.started('c1')).toBe(true);
    expect(changes.map((c) => `${c.type}=${c.result}`)).toEqual(['startup=Unknown', 'startup=Success']);

    running('p1', 'app', 'c1', true); // the kubelet's next status says started
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls('startup')).toBe(3);
    expect(calls('live')).toBe(2);
    expect(m.liveness('c1')).toBe('Failure');
    expect(changes.at(-1)).toMatchObject({
      type: 'liveness',
      result: 'Failure',
      containerId: 'c1',
      podUid: 'p1',
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls('live')).toBe(2); // on hold until a new container appears

    running('p1', 'app', 'c2', true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(m.liveness('c1')).toBeUndefined();
    expect(calls('live')).toBe(3);
    expect(events.map((e) => e.message)).toEqual([
      'Startup probe failed: not yet',
      'Startup probe failed: not yet',
      'Liveness probe failed: dead',
      'Liveness probe failed: dead',
      'Liveness probe failed: dead',
    ]);
    expect(events[0]).toMatchObject({ reason: 'Unhealthy', fieldPath: 'spec.containers{app}' });
    m.stop();
  });

  it('starts readiness as Failure, reports Success, and probes at once when the status asks', async () => {
    const m = manager();
    await vi.advanceTimersByTimeAsync(30_000);
    running('p1', 'app', 'c1', true);
    m.addPod(pod('p1', { name: 'app', readinessProbe: execProbe('ready', { periodSeconds: 10 }) }));
    await vi.advanceTimersByTimeAsync(10);
    expect(m.ready('c1')).toBe(true);
    expect(changes.map((c) => `${c.type}=${c.result}`)).toEqual(['readiness=Failure', 'readiness=Success']);

    script = () => ({ exitCode: 1 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(m.ready('c1')).toBe(false);
    const before = calls('ready');
    m.statusUpdated('p1', statuses.get('p1')!);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls('ready')).toBe(before + 1);
    m.stop();
  });

  it('never piles up runs of a slow probe, and bounds probes in flight across pods', async () => {
    const m = manager({ maxConcurrent: 3 });
    await vi.advanceTimersByTimeAsync(30_000);
    script = () => ({ exitCode: 0, delayMs: 2_500 });
    for (let i = 0; i < 10; i++) {
      running(`p${i}`, 'app', `c${i}`, true);
      m.addPod(pod(`p${i}`, { name: 'app', readinessProbe: execProbe('slow', { timeoutSeconds: 10 }) }));
    }
    await vi.advanceTimersByTimeAsync(20_000);
    expect(maxInFlight).toBe(3);
    // 3 slots, 2.5 s per run, started at 0, 2.5, ... 20 s: at most 27 runs, however many ticks were due.
    expect(execCalls.length).toBeLessThanOrEqual(27);
    expect(execCalls.length).toBeGreaterThanOrEqual(20);
    m.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(m.workerCount).toBe(0);
  });

  it('stops liveness and startup of a terminating pod, then everything on removePod', async () => {
    const m = manager();
    await vi.advanceTimersByTimeAsync(30_000);
    running('p1', 'app', 'c1', true);
    m.addPod(
      pod('p1', {
        name: 'app',
        readinessProbe: execProbe('ready'),
        livenessProbe: execProbe('live'),
        startupProbe: execProbe('startup'),
      }),
    );
    await vi.advanceTimersByTimeAsync(1_500);
    expect(
      m
        .podWorkers('p1')
        .map((w) => w.type)
        .sort(),
    ).toEqual(['liveness', 'readiness', 'startup']);
    m.stopLivenessAndStartup('p1');
    expect(m.podWorkers('p1').map((w) => w.type)).toEqual(['readiness']);
    expect(m.liveness('c1')).toBeUndefined();
    const live = calls('live');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls('live')).toBe(live);
    expect(calls('ready')).toBeGreaterThan(2);
    m.removePod('p1');
    expect(m.workerCount).toBe(0);
    expect(m.ready('c1')).toBeUndefined();
    const ready = calls('ready');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls('ready')).toBe(ready);
  });

  it('reports liveness Success and stops once the pod is being deleted', async () => {
    const m = manager();
    await vi.advanceTimersByTimeAsync(30_000);
    script = () => ({ exitCode: 1 });
    running('p1', 'app', 'c1', true);
    const p = pod('p1', { name: 'app', livenessProbe: execProbe('live', { failureThreshold: 1 }) });
    m.addPod({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date().toISOString() } });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls('live')).toBe(0);
    expect(m.workerCount).toBe(0);
    expect(changes.filter((c) => c.type === 'liveness')).toEqual([]);
  });

  it('throws away errored runs (3 attempts) with an "errored" event', async () => {
    const m = manager();
    await vi.advanceTimersByTimeAsync(30_000);
    const failing: ExecRunner = {
      execSync: async (id, cmd, t) => {
        execCalls.push({ cmd, id, timeout: t });
        throw new CriError('NotFound', grpc.status.NOT_FOUND, 'ExecSync', 'container is gone');
      },
    };
    const m2 = new ProbeManager({
      exec: failing,
      events: { event: (_r, _t, reason, message) => events.push({ reason, message }) },
      podStatus: (uid) => statuses.get(uid),
    });
    await vi.advanceTimersByTimeAsync(30_000);
    running('p1', 'app', 'c1', true);
    m2.addPod(pod('p1', { name: 'app', readinessProbe: execProbe('ready', { failureThreshold: 1 }) }));
    await vi.advanceTimersByTimeAsync(10);
    expect(execCalls).toHaveLength(3);
    expect(events).toEqual([
      {
        reason: 'Unhealthy',
        message:
          'Readiness probe errored and resulted in unknown state: rpc error: code = NotFound desc = container is gone',
      },
    ]);
    expect(m2.ready('c1')).toBe(false); // the initial value, not a result
    m.stop();
    m2.stop();
  });

  it('exits when the pod is terminal and starts with jitter right after a kubelet start', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const m = manager();
    running('p1', 'app', 'c1', true);
    m.addPod(pod('p1', { name: 'app', readinessProbe: execProbe('ready', { periodSeconds: 4 }) }));
    await vi.advanceTimersByTimeAsync(1_900);
    expect(calls('ready')).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls('ready')).toBe(1);
    statuses.set('p1', { ...statuses.get('p1'), phase: 'Succeeded' });
    await vi.advanceTimersByTimeAsync(4_000);
    expect(m.workerCount).toBe(0);
    expect(m.ready('c1')).toBeUndefined();
  });

  // upstream worker.doProbe with ContainerRestartRules: keep probing a terminated container
  // only if podutil.ContainerShouldRestart says it will run again.
  it('keeps the worker of a terminated container its restart rule restarts; stops it otherwise', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const m = manager();
    const terminated = (uid: string, exitCode: number) =>
      statuses.set(uid, {
        phase: 'Running',
        containerStatuses: [
          { name: 'app', containerID: 'containerd://c1', state: { terminated: { exitCode } } },
        ],
      });
    const ruled = (uid: string): ProbePod => ({
      ...pod(uid, {
        name: 'app',
        restartPolicy: 'Never',
        restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
        readinessProbe: execProbe('ready'),
      }),
    });
    terminated('match', 42);
    terminated('miss', 1);
    m.addPod(ruled('match'));
    m.addPod(ruled('miss'));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(m.workerCount).toBe(1);
    m.stop();
  });

  it('runs once per period on the real clock (timers and Date.now may disagree by a millisecond)', async () => {
    vi.useRealTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0); // no start-up jitter
    const m = new ProbeManager({ exec, events: { event: () => {} }, podStatus: (uid) => statuses.get(uid) });
    running('p1', 'app', 'c1', true);
    m.addPod(pod('p1', { name: 'app', livenessProbe: execProbe('live') }));
    await new Promise((r) => setTimeout(r, 3_300));
    m.stop();
    // Ticks at 0, 1, 2 and 3 s.
    expect(calls('live')).toBeGreaterThanOrEqual(3);
    expect(calls('live')).toBeLessThanOrEqual(4);
  });

  it('after a kubelet restart keeps the status of adopted containers until they are probed (KEP-4781)', async () => {
    const m = manager();
    const kubeletStart = Date.now();
    await vi.advanceTimersByTimeAsync(30_000);
    let allow = false;
    script = (cmd) => (cmd[0] === 'ready' && !allow ? { exitCode: 0, delayMs: 60_000 } : { exitCode: 0 });
    const startedAt = new Date(kubeletStart - 20_000).toISOString();
    statuses.set('p1', {
      phase: 'Running',
      podIP: '10.0.0.9',
      initContainerStatuses: [
        { name: 'side', containerID: 'containerd://s1', started: true, state: { running: { startedAt } } },
      ],
      containerStatuses: [
        { name: 'app', containerID: 'containerd://a1', started: true, state: { running: { startedAt } } },
      ],
    });
    m.addPod({
      metadata: { uid: 'p1', name: 'p1', namespace: 'ns' },
      spec: {
        initContainers: [{ name: 'side', restartPolicy: 'Always', startupProbe: execProbe('startup') }],
        containers: [{ name: 'app', readinessProbe: execProbe('ready') }],
      },
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(m.startup('s1')).toBe('Success'); // a started sidecar stays started
    expect(calls('startup')).toBe(0);
    expect(m.ready('a1')).toBeUndefined(); // not reset to Failure while the probe runs
    allow = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(m.ready('a1')).toBe(true);
    m.stop();
  });

  it('probes sidecars but not regular init containers', () => {
    const m = manager();
    m.addPod({
      metadata: { uid: 'p1', name: 'p1', namespace: 'ns' },
      spec: {
        initContainers: [
          { name: 'init', readinessProbe: execProbe('x') },
          { name: 'side', restartPolicy: 'Always', startupProbe: execProbe('y') },
        ],
        containers: [{ name: 'app' }],
      },
    });
    expect(m.podWorkers('p1').map((w) => `${w.container.name}/${w.type}`)).toEqual(['side/startup']);
    m.stop();
  });
});
