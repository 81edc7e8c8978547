import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CriClient } from '../../../src/cri/client.js';
import {
  CriCancelledError,
  CriDeadlineExceededError,
  CriError,
  CriUnavailableError,
  CriUnimplementedError,
} from '../../../src/cri/errors.js';
import { CriMock, type CriMockOptions, GrpcStatus } from '../../../src/cri/mock/index.js';
import type { ContainerEventResponseOut, PodSandboxConfig } from '../../../src/cri/types.js';

const BUSYBOX = 'localhost:5999/kubelet-ts/busybox:1.36';

describe('CriMock', () => {
  let mock: CriMock | undefined;
  let client: CriClient;
  let logRoot: string;

  beforeEach(async () => {
    logRoot = await mkdtemp(join(tmpdir(), 'kubelet-ts-mock-test-'));
  });

  afterEach(async () => {
    client?.close();
    await mock?.stop();
    mock = undefined;
    await rm(logRoot, { recursive: true, force: true });
  });

  async function start(opts: CriMockOptions = {}): Promise<CriMock> {
    mock = await CriMock.start(opts);
    client = new CriClient({ endpoint: mock.endpoint, requestTimeoutMs: 10_000 });
    return mock;
  }

  let seq = 0;
  async function runPod(): Promise<{ id: string; config: PodSandboxConfig }> {
    seq += 1;
    const config: PodSandboxConfig = {
      metadata: { name: `pod-${seq}`, namespace: 'test', uid: `uid-${seq}`, attempt: 0 },
      logDirectory: join(logRoot, `pod-${seq}`),
      linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } },
    };
    const { podSandboxId } = await client.runPodSandbox({ config });
    return { id: podSandboxId, config };
  }

  async function runContainer(name: string, command: string[] = ['sleep', '3600'], start = true) {
    const pod = await runPod();
    const id = await client.createContainer({
      podSandboxId: pod.id,
      sandboxConfig: pod.config,
      config: {
        metadata: { name },
        image: { image: BUSYBOX },
        command,
        logPath: `${name}.log`,
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } },
      },
    });
    if (start) await client.startContainer(id);
    return { id, pod, logPath: join(pod.config.logDirectory ?? '', `${name}.log`) };
  }

  async function waitExited(id: string) {
    return vi.waitFor(
      async () => {
        const { status } = await client.containerStatus(id);
        if (status?.state !== 'CONTAINER_EXITED') throw new Error(`state ${status?.state}`);
        return status;
      },
      { timeout: 5_000, interval: 20 },
    );
  }

  describe('fault injection', () => {
    it('adds latency', async () => {
      const m = await start();
      m.faults.inject({ method: 'Version', latencyMs: 200 });
      const t0 = performance.now();
      await client.version();
      expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
      const t1 = performance.now();
      await client.status();
      expect(performance.now() - t1).toBeLessThan(150);
    });

    it('fails N times with a code, then removes itself', async () => {
      const m = await start();
      m.faults.inject({ method: 'ListContainers', code: GrpcStatus.UNAVAILABLE, message: 'down', times: 2 });
      for (let i = 0; i < 2; i += 1) {
        const err = await client.listContainers().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CriUnavailableError);
        expect((err as CriError).details).toBe('down');
      }
      expect(await client.listContainers()).toEqual([]);
      expect(m.faults.active).toHaveLength(0);
      expect(m.journal.entries.map((e) => e.code)).toEqual([
        GrpcStatus.UNAVAILABLE,
        GrpcStatus.UNAVAILABLE,
        0,
      ]);
    });

    it('fails at an error rate (seeded, so deterministic), on every method with "*", until cleared', async () => {
      const m = await start({ seed: 42 });
      m.faults.inject({ method: '*', code: GrpcStatus.INTERNAL, errorRate: 0.3 });
      let failures = 0;
      for (let i = 0; i < 200; i += 1) {
        const ok = await (i % 2 ? client.version() : client.listImages()).then(
          () => true,
          () => false,
        );
        if (!ok) failures += 1;
      }
      expect(failures).toBeGreaterThan(35);
      expect(failures).toBeLessThan(85);
      m.faults.clear();
      for (let i = 0; i < 20; i += 1) await client.version();
    });

    it('hangs a call until the client deadline', async () => {
      const m = await start();
      m.faults.inject({ method: 'ListPodSandbox', hang: true });
      const err = await client.listPodSandbox(undefined, { timeoutMs: 150 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriDeadlineExceededError);
      await vi.waitFor(() => expect(m.journal.entries[0]?.code).toBe(GrpcStatus.CANCELLED));
    });
  });

  describe('images', () => {
    it('a hung pull is cancelled by the AbortSignal passed to the client', async () => {
      const m = await start();
      m.setPullBehaviour('localhost:5999/slow/image:1', { kind: 'hang' });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const t0 = performance.now();
      const err = await client
        .pullImage({ image: { image: 'localhost:5999/slow/image:1' } }, { signal: ac.signal })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriCancelledError);
      expect(performance.now() - t0).toBeLessThan(2_000);
      await vi.waitFor(() => expect(m.journal.entries[0]?.code).toBe(GrpcStatus.CANCELLED));
    });

    it('pull behaviours: fail with a message, succeed after a delay, default not-found', async () => {
      const m = await start();
      m.setPullBehaviour('localhost:5999/bad:1', { kind: 'fail', message: 'unauthorized: nope' });
      const bad = await client
        .pullImage({ image: { image: 'localhost:5999/bad:1' } })
        .catch((e: unknown) => e);
      expect((bad as CriError).details).toBe('unauthorized: nope');

      m.setPullBehaviour('localhost:5999/new:1', { kind: 'delay', ms: 150 });
      const t0 = performance.now();
      const ref = await client.pullImage({ image: { image: 'localhost:5999/new:1' } });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      expect((await client.imageStatus('localhost:5999/new:1'))?.id).toBe(ref);

      const missing = await client.pullImage({ image: { image: 'busybox' } }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(CriError);
      expect((missing as CriError).kind).toBe('Unknown');
      expect((missing as CriError).details).toMatch(/docker\.io\/library\/busybox:latest: not found/);
    });

    it('addImage, removeImage, and a present image is a pull hit', async () => {
      const m = await start({ images: [] });
      expect(await client.listImages()).toEqual([]);
      m.addImage({ ref: 'example.com/app:2', user: '65534', sizeBytes: 1234, cmd: ['sleep', '1'] });
      const img = await client.imageStatus('example.com/app:2');
      expect(img?.uid?.value).toBe('65534');
      expect(img?.size).toBe('1234');
      expect(await client.pullImage({ image: { image: 'example.com/app:2' } })).toBe(img?.id);
      await client.removeImage('example.com/app:2');
      expect(await client.imageStatus('example.com/app:2')).toBeNull();
    });
  });

  describe('containers', () => {
    it('program(): overrides behaviour by matcher (spec, script, start error)', async () => {
      const m = await start();
      m.program('spec', { log: ['started'], exitAfterMs: 100, exitCode: 2 });
      m.program({ podNamespace: 'test', name: 'script' }, 'echo from-script; exit 0');
      m.program((c) => c.name === 'broken', {
        startError: 'exec: "nope": executable file not found in $PATH',
      });

      const a = await runContainer('spec');
      const sa = await waitExited(a.id);
      expect([sa.exitCode, sa.reason]).toEqual([2, 'Error']);
      expect(await readFile(a.logPath, 'utf8')).toMatch(/stdout F started\n$/);

      const b = await runContainer('script', ['sleep', '3600']);
      expect((await waitExited(b.id)).reason).toBe('Completed');
      expect(await readFile(b.logPath, 'utf8')).toMatch(/stdout F from-script\n$/);

      const c = await runContainer('broken', ['nope'], false);
      const err = await client.startContainer(c.id).catch((e: unknown) => e);
      expect((err as CriError).details).toMatch(/executable file not found/);
      const sc = (await client.containerStatus(c.id)).status;
      expect([sc?.state, sc?.exitCode, sc?.reason, sc?.startedAt]).toEqual([
        'CONTAINER_EXITED',
        128,
        'StartError',
        '0',
      ]);
    });

    it('program() with onTerm exits at once on StopContainer', async () => {
      const m = await start();
      m.program('web', { onTerm: { exitCode: 0 } });
      const { id } = await runContainer('web');
      const t0 = performance.now();
      await client.stopContainer(id, 30);
      expect(performance.now() - t0).toBeLessThan(500);
      expect((await client.containerStatus(id)).status?.reason).toBe('Completed');
    });

    it('onExec(): scripted results, falling through to the interpreter; delay honours the timeout', async () => {
      const m = await start();
      m.onExec('web', (cmd) => (cmd[0] === '/probe' ? { stdout: 'healthy\n', exitCode: 0 } : undefined));
      m.onExec({ name: 'web' }, (cmd) => (cmd[0] === '/slow' ? { delayMs: 5_000 } : undefined));
      const { id } = await runContainer('web');
      const probe = await client.execSync(id, ['/probe'], 5);
      expect([probe.stdout.toString(), probe.exitCode]).toEqual(['healthy\n', 0]);
      const echo = await client.execSync(id, ['echo', 'hi'], 5);
      expect(echo.stdout.toString()).toBe('hi\n');
      const unknownCmd = await client.execSync(id, ['/bin/true-ish'], 5);
      expect(unknownCmd.exitCode).toBe(0);
      const slow = await client.execSync(id, ['/slow'], 1).catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(CriDeadlineExceededError);
      expect(m.calls('ExecSync').map((r) => r.cmd[0])).toEqual(['/probe', 'echo', '/bin/true-ish', '/slow']);
    });

    it('setStats(), oomKill() and exitContainer()', async () => {
      const m = await start();
      const a = await runContainer('a');
      const b = await runContainer('b');
      m.setStats(a.id, { memoryWorkingSetBytes: 123_456_789, cpuUsageCoreNanoSeconds: 42 });
      m.setStats({ name: 'b' }, { memoryWorkingSetBytes: 7 });
      const sa = await client.containerStats(a.id);
      expect(sa?.memory?.workingSetBytes?.value).toBe('123456789');
      expect(sa?.cpu?.usageCoreNanoSeconds?.value).toBe('42');
      expect((await client.containerStats(b.id))?.memory?.workingSetBytes?.value).toBe('7');

      m.oomKill(a.id);
      const oom = await waitExited(a.id);
      expect([oom.exitCode, oom.reason]).toEqual([137, 'OOMKilled']);
      m.exitContainer(b.id, 0);
      expect((await waitExited(b.id)).reason).toBe('Completed');
    });

    it('a container with stdin and a bare sh runs until stopped', async () => {
      await start();
      const pod = await runPod();
      const id = await client.createContainer({
        podSandboxId: pod.id,
        sandboxConfig: pod.config,
        config: { metadata: { name: 'tty' }, image: { image: BUSYBOX }, stdin: true },
      });
      await client.startContainer(id);
      await new Promise((r) => setTimeout(r, 50));
      expect((await client.containerStatus(id)).status?.state).toBe('CONTAINER_RUNNING');
    });

    it('ListPodSandboxStats sums running containers', async () => {
      const m = await start();
      m.setStats({}, { memoryWorkingSetBytes: 1000 });
      const { pod } = await runContainer('a');
      const stats = await client.listPodSandboxStats({ id: pod.id });
      expect(stats[0]?.linux?.memory?.workingSetBytes?.value).toBe('1000');
      expect(stats[0]?.attributes?.id).toBe(pod.id);
    });
  });

  describe('profiles and status', () => {
    it("'full' streams container events with sandbox and container statuses", async () => {
      await start({ profile: 'full' });
      const ac = new AbortController();
      const events: ContainerEventResponseOut[] = [];
      const consumed = (async () => {
        for await (const ev of client.containerEvents(ac.signal)) events.push(ev);
      })();
      await vi.waitFor(() => expect(mock?.journal.calls('GetContainerEvents')).toHaveLength(1));
      const { id, pod } = await runContainer('ev', ['sh', '-c', 'exit 5']);
      await waitExited(id);
      await client.removeContainer(id);
      await vi.waitFor(() => expect(events).toHaveLength(4));
      ac.abort();
      await consumed;
      expect(events.map((e) => e.containerEventType)).toEqual([
        'CONTAINER_CREATED_EVENT',
        'CONTAINER_STARTED_EVENT',
        'CONTAINER_STOPPED_EVENT',
        'CONTAINER_DELETED_EVENT',
      ]);
      expect(events.every((e) => e.containerId === id && e.podSandboxStatus?.id === pod.id)).toBe(true);
      expect(events[2]?.containersStatuses.map((s) => [s.id, s.exitCode])).toEqual([[id, 5]]);
      expect(events[3]?.containersStatuses).toEqual([]);
      const times = events.map((e) => BigInt(e.createdAt));
      expect([...times].sort((x, y) => (x < y ? -1 : 1))).toEqual(times);
    });

    it("'containerd-1.6' answers GetContainerEvents and RPCs newer than 1.6 with UNIMPLEMENTED", async () => {
      await start();
      const ac = new AbortController();
      const err = await (async () => {
        for await (const _ of client.containerEvents(ac.signal)) {
          // never yields
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriUnimplementedError);
      expect((err as CriError).details).toBe('method GetContainerEvents not implemented');
    });

    it('Version and a NotReady condition knob', async () => {
      const m = await start({ runtimeName: 'mockd' });
      const v = await client.version();
      expect([v.runtimeName, v.runtimeVersion, v.runtimeApiVersion]).toEqual([
        'mockd',
        '1.6.20~ds1-mock',
        'v1',
      ]);
      m.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'cni config uninitialized');
      const { status } = await client.status();
      expect(status?.conditions.find((c) => c.type === 'NetworkReady')).toEqual({
        type: 'NetworkReady',
        status: false,
        reason: 'NetworkPluginNotReady',
        message: 'cni config uninitialized',
      });
    });
  });

  describe('journal', () => {
    it('records method, request and time, bounded to its limit; calls() filters; clear() empties', async () => {
      const m = await start({ journalLimit: 5 });
      const t0 = Date.now();
      for (let i = 0; i < 4; i += 1) await client.version();
      const { id } = await runContainer('j');
      expect(m.journal.entries).toHaveLength(5);
      expect(m.journal.entries.map((e) => e.method)).toEqual([
        'Version',
        'Version',
        'RunPodSandbox',
        'CreateContainer',
        'StartContainer',
      ]);
      expect(m.journal.entries.every((e) => e.at >= t0 && e.code === 0)).toBe(true);
      expect(m.calls('StartContainer')).toEqual([{ containerId: id }]);
      expect(m.calls('CreateContainer')[0]?.config?.metadata?.name).toBe('j');
      m.journal.clear();
      expect(m.journal.entries).toEqual([]);
    });
  });

  describe('stop()', () => {
    it('ends in-flight calls and clears every timer the mock holds', async () => {
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const m = await start();
      const { id } = await runContainer('busy', ['sh', '-c', 'sleep 1000 & sleep 2000 & wait']);
      const stopping = client.stopContainer(id, 600).catch((e: unknown) => e);
      const hung = client.execSync(id, ['sleep', '900'], 0).catch((e: unknown) => e);
      m.setPullBehaviour('localhost:5999/x:1', { kind: 'delay', ms: 500_000 });
      const pulling = client.pullImage({ image: { image: 'localhost:5999/x:1' } }).catch((e: unknown) => e);
      await vi.waitFor(() => expect(m.journal.entries.length).toBeGreaterThanOrEqual(6));
      client.close();
      await m.stop();
      const results = await Promise.all([stopping, hung, pulling]);
      for (const r of results) expect(r).toBeInstanceOf(CriError);
      await new Promise((r) => setImmediate(r));
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    });
  });
});
