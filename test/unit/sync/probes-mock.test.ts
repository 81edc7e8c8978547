import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, ContainerStatus, Pod, PodStatus } from '../../../src/api/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Probes, lifecycle hooks and native sidecars through the whole sync core (plan + syncer +
// workers + probe manager + status generation) against the CRI mock. Exec probes and hooks are
// scripted with mock.onExec; container behaviour with mock.program.

const IMAGE = 'localhost:5999/kubelet-ts/busybox:1.36';
const sleeper = (name: string, extra: Partial<Container> = {}): Container => ({
  name,
  image: IMAGE,
  command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
  ...extra,
});
const execProbe = (cmd: string, extra: Record<string, number> = {}) => ({
  exec: { command: [cmd] },
  periodSeconds: 1,
  ...extra,
});

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
const find = (list: ContainerStatus[] | undefined, name: string) => list?.find((s) => s.name === name);
const cond = (s: PodStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

/** When the mock received each call of `method` for container `name` (epoch ms). */
function callTimes(method: 'CreateContainer' | 'StopContainer' | 'ExecSync', name: string): number[] {
  const ids = new Map(mock.containers().map((c) => [c.id, c.name]));
  return mock.journal.entries
    .filter((e) => e.method === method)
    .filter((e) => {
      const r = e.request as { containerId?: string; config?: { metadata?: { name?: string } } };
      return (r.config?.metadata?.name ?? ids.get(r.containerId ?? '')) === name;
    })
    .map((e) => e.at);
}

function deletePod(p: Pod, graceSeconds: number): void {
  h.update({
    ...p,
    metadata: {
      ...p.metadata,
      deletionTimestamp: new Date().toISOString(),
      deletionGracePeriodSeconds: graceSeconds,
    },
  });
}

const terminal = (p: Pod) => () => {
  const s = h.status(uid(p));
  return s?.phase === 'Succeeded' || s?.phase === 'Failed' ? s : undefined;
};

describe('startup probes and native sidecars', () => {
  it('starts the next init container and the app only after the sidecar passed its startup probe', async () => {
    let okAt = 0;
    let runs = 0;
    mock.onExec('proxy', (cmd) => {
      if (cmd[0] !== 'check') return undefined;
      runs++;
      if (runs < 3) return { exitCode: 1, stdout: 'warming up' };
      okAt ||= Date.now();
      return { exitCode: 0 };
    });
    const pod = testPod('gated', {
      initContainers: [
        sleeper('proxy', {
          restartPolicy: 'Always',
          startupProbe: execProbe('check', { failureThreshold: 10 }),
        }),
        { name: 'setup', image: IMAGE, command: ['sh', '-c', 'exit 0'] },
      ],
      containers: [sleeper('app')],
    });
    h.setPods([pod]);
    const gated = await h.waitFor('the sidecar running, not started', () => {
      const s = h.status(uid(pod));
      const proxy = find(s?.initContainerStatuses, 'proxy');
      return proxy?.state?.running && runs >= 1 ? s : undefined;
    });
    expect(find(gated.initContainerStatuses, 'proxy')).toMatchObject({ started: false, ready: false });
    expect(gated.phase).toBe('Pending');
    expect(cond(gated, 'Initialized')?.status).toBe('False');

    const st = await h.waitFor('Running and Ready', () => {
      const s = h.status(uid(pod));
      return s?.phase === 'Running' && cond(s, 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(find(st.initContainerStatuses, 'proxy')).toMatchObject({ started: true, ready: true });
    expect(find(st.initContainerStatuses, 'setup')?.state?.terminated?.reason).toBe('Completed');
    expect(cond(st, 'Initialized')?.status).toBe('True');
    expect(okAt).toBeGreaterThan(0);
    expect(callTimes('CreateContainer', 'setup')[0]).toBeGreaterThanOrEqual(okAt);
    expect(callTimes('CreateContainer', 'app')[0]).toBeGreaterThan(callTimes('CreateContainer', 'setup')[0]!);
    expect(h.events.filter((e) => e.reason === 'Unhealthy').map((e) => [e.ref.fieldPath, e.message])).toEqual(
      [
        ['spec.initContainers{proxy}', 'Startup probe failed: warming up'],
        ['spec.initContainers{proxy}', 'Startup probe failed: warming up'],
      ],
    );
  });

  it('restarts a sidecar that crashes during initialization, and initialization goes on', async () => {
    mock.program((c) => c.name === 'log' && c.attempt === 0, { exitAfterMs: 300, exitCode: 1 });
    const pod = testPod('sidecrash', {
      restartPolicy: 'Never',
      initContainers: [
        sleeper('log', { restartPolicy: 'Always' }),
        { name: 'migrate', image: IMAGE, command: ['sh', '-c', 'sleep 1.5; exit 0'] },
      ],
      containers: [sleeper('app')],
    });
    h.setPods([pod]);
    const st = await h.waitFor('Running with the sidecar restarted', () => {
      const s = h.status(uid(pod));
      const log = find(s?.initContainerStatuses, 'log');
      return s?.phase === 'Running' && log?.state?.running && (log.restartCount ?? 0) >= 1 ? s : undefined;
    });
    const log = find(st.initContainerStatuses, 'log');
    expect(log?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(find(st.initContainerStatuses, 'migrate')?.state?.terminated?.exitCode).toBe(0);
    expect(find(st.containerStatuses, 'app')?.state?.running).toBeTruthy();
    // One migrate run only: the sidecar's crash does not restart initialization.
    expect(callTimes('CreateContainer', 'migrate')).toHaveLength(1);
  });

  it('completes a job-style pod: the main container exits, the sidecar is stopped, the pod Succeeds', async () => {
    const pod = testPod('job', {
      restartPolicy: 'Never',
      initContainers: [sleeper('side', { restartPolicy: 'Always' })],
      containers: [{ name: 'job', image: IMAGE, command: ['sh', '-c', 'sleep 0.5; exit 0'] }],
    });
    h.setPods([pod]);
    const st = await h.waitFor('Succeeded', () => {
      const s = h.status(uid(pod));
      return s?.phase === 'Succeeded' ? s : undefined;
    });
    expect(find(st.containerStatuses, 'job')?.state?.terminated).toMatchObject({ exitCode: 0 });
    expect(find(st.initContainerStatuses, 'side')?.state?.terminated).toBeTruthy();
    expect(h.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container side')).toBe(
      true,
    );
    expect(callTimes('CreateContainer', 'side')).toHaveLength(1);
  });

  it('stops regular containers first, then the sidecars in reverse order; preStop hooks start at once', async () => {
    let preStopAt = 0;
    mock.onExec('s1', (cmd) => {
      if (cmd[0] !== 'drain') return undefined;
      preStopAt = Date.now();
      return { delayMs: 100 };
    });
    const pod = testPod('order', {
      terminationGracePeriodSeconds: 20,
      initContainers: [
        sleeper('s1', { restartPolicy: 'Always', lifecycle: { preStop: { exec: { command: ['drain'] } } } }),
        sleeper('s2', { restartPolicy: 'Always' }),
      ],
      containers: [
        sleeper('app', { command: ['sh', '-c', 'trap "sleep 0.6; exit 0" TERM; sleep 3600 & wait'] }),
      ],
    });
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid(pod))?.phase === 'Running');
    const deletedAt = Date.now();
    deletePod(pod, 20);
    const st = await h.waitFor('terminal', terminal(pod));
    const [app] = callTimes('StopContainer', 'app');
    const [s2] = callTimes('StopContainer', 's2');
    const [s1] = callTimes('StopContainer', 's1');
    expect(app).toBeDefined();
    expect(s2! - app!).toBeGreaterThanOrEqual(500); // after the app took 0.6 s to exit
    expect(s1!).toBeGreaterThanOrEqual(s2!);
    expect(preStopAt).toBeGreaterThanOrEqual(deletedAt);
    expect(preStopAt).toBeLessThan(s2!);
    // Each sidecar's grace is what is left of its own: 20 s minus the wait (or the preStop).
    const timeouts = mock.calls('StopContainer').map((r) => Number(r.timeout));
    expect(timeouts.every((t) => t >= 18 && t <= 20)).toBe(true);
    expect(find(st.containerStatuses, 'app')?.state?.terminated?.exitCode).toBe(0);
    const killing = h.events.filter((e) => e.reason === 'Killing').map((e) => e.message);
    expect(killing.sort()).toEqual([
      'Stopping container app',
      'Stopping container s1',
      'Stopping container s2',
    ]);
  });

  it('SIGKILLs a container that ignores SIGTERM once the grace period is exhausted', async () => {
    mock.program('stubborn', { onTerm: 'ignore' });
    const pod = testPod('stubborn', { containers: [sleeper('stubborn')] });
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid(pod))?.phase === 'Running');
    const t0 = Date.now();
    deletePod(pod, 2);
    const st = await h.waitFor('terminal', terminal(pod), 15_000);
    const took = Date.now() - t0;
    expect(find(st.containerStatuses, 'stubborn')?.state?.terminated?.exitCode).toBe(137);
    expect(mock.calls('StopContainer').map((r) => r.timeout)).toContain('2');
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(10_000);
  });
});

describe('liveness and readiness', () => {
  it('kills and restarts a container whose liveness probe fails, with the probe-level grace period', async () => {
    mock.onExec(
      (c) => c.name === 'app' && c.attempt === 0,
      (cmd) => (cmd[0] === 'alive' ? { exitCode: 1, stderr: 'stuck' } : undefined),
    );
    const pod = testPod('liveness', {
      terminationGracePeriodSeconds: 30,
      containers: [
        sleeper('app', {
          livenessProbe: execProbe('alive', { failureThreshold: 2, terminationGracePeriodSeconds: 3 }),
        }),
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('restarted and running', () => {
      const s = h.status(uid(pod));
      const app = find(s?.containerStatuses, 'app');
      return app?.restartCount === 1 && app.state?.running && app.ready ? s : undefined;
    });
    expect(find(st.containerStatuses, 'app')?.lastState?.terminated?.exitCode).toBe(0);
    const msgs = h.events.map((e) => `${e.reason}: ${e.message}`);
    expect(msgs.filter((m) => m.startsWith('Unhealthy'))).toEqual([
      'Unhealthy: Liveness probe failed: stuck',
      'Unhealthy: Liveness probe failed: stuck',
    ]);
    expect(msgs).toContain('Killing: Container app failed liveness probe, will be restarted');
    expect(mock.calls('StopContainer')[0]?.timeout).toBe('3');
    expect(st.phase).toBe('Running');
  });

  it('restarts a container that never passes its startup probe; liveness waits for startup', async () => {
    mock.onExec(
      (c) => c.name === 'app' && c.attempt === 0,
      (cmd) => (cmd[0] === 'started' ? { exitCode: 1, stdout: 'booting' } : undefined),
    );
    const pod = testPod('startup', {
      containers: [
        sleeper('app', {
          startupProbe: execProbe('started', { failureThreshold: 2, terminationGracePeriodSeconds: 4 }),
          livenessProbe: execProbe('alive'),
        }),
      ],
    });
    h.setPods([pod]);
    const st = await h.waitFor('restarted, started and ready', () => {
      const s = h.status(uid(pod));
      const app = find(s?.containerStatuses, 'app');
      return app?.restartCount === 1 && app.started && app.ready ? s : undefined;
    });
    expect(st.phase).toBe('Running');
    const msgs = h.events.map((e) => `${e.reason}: ${e.message}`);
    expect(msgs).toContain('Killing: Container app failed startup probe, will be restarted');
    expect(msgs.filter((m) => m.startsWith('Unhealthy'))).toEqual([
      'Unhealthy: Startup probe failed: booting',
      'Unhealthy: Startup probe failed: booting',
    ]);
    expect(mock.calls('StopContainer')[0]?.timeout).toBe('4');
    // The first container was never started, so its liveness probe never ran.
    const first = mock.containers().find((c) => c.name === 'app' && c.attempt === 0);
    const execs = mock.journal.entries.filter(
      (e) => e.method === 'ExecSync' && (e.request as { containerId: string }).containerId === first?.id,
    );
    expect(execs.map((e) => (e.request as { cmd: string[] }).cmd[0])).toEqual(['started', 'started']);
  });

  it('drives ready, ContainersReady and Ready from readiness probes, sidecars included', async () => {
    const healthy = { app: true, side: true };
    mock.onExec('app', (cmd) => (cmd[0] === 'ready' ? { exitCode: healthy.app ? 0 : 1 } : undefined));
    mock.onExec('side', (cmd) => (cmd[0] === 'ready' ? { exitCode: healthy.side ? 0 : 1 } : undefined));
    const pod = testPod('readiness', {
      initContainers: [sleeper('side', { restartPolicy: 'Always', readinessProbe: execProbe('ready') })],
      containers: [sleeper('app', { readinessProbe: execProbe('ready') })],
    });
    h.setPods([pod]);
    await h.waitFor('Ready', () => cond(h.status(uid(pod)), 'Ready')?.status === 'True');

    healthy.side = false;
    const notReady = await h.waitFor('not Ready', () => {
      const s = h.status(uid(pod));
      return cond(s, 'Ready')?.status === 'False' ? s : undefined;
    });
    expect(cond(notReady, 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [side]',
    });
    expect(find(notReady.initContainerStatuses, 'side')).toMatchObject({ started: true, ready: false });
    expect(find(notReady.containerStatuses, 'app')?.ready).toBe(true);
    expect(h.events.some((e) => e.message === 'Readiness probe failed: ')).toBe(true);

    healthy.side = true;
    healthy.app = false;
    const appDown = await h.waitFor('app not ready', () => {
      const s = h.status(uid(pod));
      return find(s?.containerStatuses, 'app')?.ready === false ? s : undefined;
    });
    expect(cond(appDown, 'Ready')?.message).toBe('containers with unready status: [app]');
    healthy.app = true;
    await h.waitFor('Ready again', () => cond(h.status(uid(pod)), 'Ready')?.status === 'True');
    // Readiness never restarts anything.
    expect(callTimes('CreateContainer', 'app')).toHaveLength(1);
  });
});

describe('lifecycle hooks', () => {
  it('kills a container whose postStart hook fails: FailedPostStartHook, PostStartHookError', async () => {
    mock.onExec('app', (cmd) => (cmd[0] === 'hook' ? { exitCode: 1, stderr: 'nope' } : undefined));
    const pod = testPod('poststart', {
      containers: [sleeper('app', { lifecycle: { postStart: { exec: { command: ['hook'] } } } })],
    });
    h.setPods([pod]);
    const st = await h.waitFor('PostStartHookError', () => {
      const s = h.status(uid(pod));
      return find(s?.containerStatuses, 'app')?.state?.waiting?.reason === 'PostStartHookError'
        ? s
        : undefined;
    });
    expect(find(st.containerStatuses, 'app')?.state?.waiting?.message).toBe(
      `Exec lifecycle hook ([hook]) for Container "app" in Pod "poststart_default(${uid(pod)})" failed - ` +
        `error: command 'hook' exited with 1: nope, message: "nope"`,
    );
    const msgs = h.events.map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(msgs).toContain('Warning FailedPostStartHook: PostStartHook failed');
    expect(msgs).toContain('Normal Killing: FailedPostStartHook');
    await h.waitFor('CrashLoopBackOff', () => {
      const app = find(h.status(uid(pod))?.containerStatuses, 'app');
      return app?.state?.waiting?.reason === 'CrashLoopBackOff';
    });
  });

  it('runs postStart before the next container starts', async () => {
    let hookDone = 0;
    mock.onExec('side', (cmd) => {
      if (cmd[0] !== 'warm') return undefined;
      setTimeout(() => {
        hookDone = Date.now();
      }, 800);
      return { delayMs: 800 };
    });
    const pod = testPod('poststart-order', {
      initContainers: [
        sleeper('side', {
          restartPolicy: 'Always',
          lifecycle: { postStart: { exec: { command: ['warm'] } } },
        }),
      ],
      containers: [sleeper('app')],
    });
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid(pod))?.phase === 'Running');
    expect(hookDone).toBeGreaterThan(0);
    expect(callTimes('CreateContainer', 'app')[0]).toBeGreaterThanOrEqual(hookDone - 50);
  });

  it('runs preStop before the stop signal and takes its time out of the grace period', async () => {
    mock.onExec('app', (cmd) => (cmd[0] === 'drain' ? { delayMs: 1_500, exitCode: 1 } : undefined));
    const pod = testPod('prestop', {
      containers: [sleeper('app', { lifecycle: { preStop: { exec: { command: ['drain'] } } } })],
    });
    h.setPods([pod]);
    await h.waitFor('Running', () => h.status(uid(pod))?.phase === 'Running');
    deletePod(pod, 10);
    await h.waitFor('terminal', terminal(pod));
    const [exec] = callTimes('ExecSync', 'app');
    const [stop] = callTimes('StopContainer', 'app');
    expect(stop! - exec!).toBeGreaterThanOrEqual(1_400);
    expect(mock.calls('StopContainer')[0]?.timeout).toBe('9');
    expect(h.events.map((e) => `${e.reason}: ${e.message}`)).toContain(
      'FailedPreStopHook: PreStopHook failed',
    );
  });
});
