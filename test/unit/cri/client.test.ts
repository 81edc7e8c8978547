import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CriClient, criTarget } from '../../../src/cri/client.js';
import {
  CriCancelledError,
  CriDeadlineExceededError,
  CriError,
  type CriErrorKind,
  CriNotFoundError,
  CriUnavailableError,
  CriUnimplementedError,
  isCriNotFound,
  isCriUnavailable,
  isCriUnimplemented,
} from '../../../src/cri/errors.js';
import { CriMock, type CriMockOptions, GrpcStatus } from '../../../src/cri/mock/index.js';

const BUSYBOX = 'localhost:5999/kubelet-ts/busybox:1.36';

describe('CriClient against the CRI mock', () => {
  let dir: string;
  const mocks: CriMock[] = [];
  const clients: CriClient[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelet-ts-client-test-'));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const m of mocks.splice(0)) await m.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function startMock(opts: CriMockOptions = {}): Promise<CriMock> {
    const m = await CriMock.start({ socketPath: join(dir, 'cri.sock'), ...opts });
    mocks.push(m);
    return m;
  }

  function newClient(endpoint: string, requestTimeoutMs = 5_000): CriClient {
    const c = new CriClient({ endpoint, requestTimeoutMs });
    clients.push(c);
    return c;
  }

  it('normalizes endpoints', () => {
    expect(criTarget('unix:///run/x.sock')).toBe('unix:///run/x.sock');
    expect(criTarget('unix:/run/x.sock')).toBe('unix:///run/x.sock');
    expect(criTarget('/run/x.sock')).toBe('unix:///run/x.sock');
    expect(() => criTarget('tcp://1.2.3.4:5')).toThrow(/unsupported/);
  });

  it.each<[number, new (...a: never[]) => CriError, CriErrorKind]>([
    [GrpcStatus.NOT_FOUND, CriNotFoundError, 'NotFound'],
    [GrpcStatus.UNAVAILABLE, CriUnavailableError, 'Unavailable'],
    [GrpcStatus.DEADLINE_EXCEEDED, CriDeadlineExceededError, 'DeadlineExceeded'],
    [GrpcStatus.UNIMPLEMENTED, CriUnimplementedError, 'Unimplemented'],
    [GrpcStatus.CANCELLED, CriCancelledError, 'Cancelled'],
    [GrpcStatus.INVALID_ARGUMENT, CriError, 'InvalidArgument'],
    [GrpcStatus.ALREADY_EXISTS, CriError, 'AlreadyExists'],
    [GrpcStatus.RESOURCE_EXHAUSTED, CriError, 'ResourceExhausted'],
    [GrpcStatus.FAILED_PRECONDITION, CriError, 'FailedPrecondition'],
    [GrpcStatus.INTERNAL, CriError, 'Unknown'],
    [GrpcStatus.UNKNOWN, CriError, 'Unknown'],
  ])('maps gRPC status %i to a typed error', async (code, type, kind) => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    m.faults.inject({ method: 'ContainerStatus', code, message: `boom ${code}`, times: 1 });
    const err = await client.containerStatus('abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(CriError);
    const e = err as CriError;
    expect([e.kind, e.code, e.method, e.details]).toEqual([kind, code, 'ContainerStatus', `boom ${code}`]);
    expect(e.message).toBe(`CRI ContainerStatus: boom ${code}`);
    expect(isCriNotFound(e)).toBe(kind === 'NotFound');
    expect(isCriUnavailable(e)).toBe(kind === 'Unavailable');
    expect(isCriUnimplemented(e)).toBe(kind === 'Unimplemented');
  });

  it('a call past its deadline fails with CriDeadlineExceededError', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    m.faults.inject({ method: 'Version', latencyMs: 1_000 });
    const t0 = performance.now();
    const err = await client.version({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriDeadlineExceededError);
    expect(performance.now() - t0).toBeLessThan(800);
  });

  it('the client default deadline applies when the call gives none', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint, 150);
    m.faults.inject({ method: 'ListContainers', hang: true });
    expect(await client.listContainers().catch((e: unknown) => e)).toBeInstanceOf(CriDeadlineExceededError);
  });

  it('an aborted signal cancels the call: CriCancelledError', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    m.faults.inject({ method: 'ListPodSandbox', hang: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await client.listPodSandbox(undefined, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriCancelledError);
    await vi.waitFor(() => expect(m.journal.entries[0]?.code).toBe(GrpcStatus.CANCELLED));
  });

  it('a signal aborted before the call fails at once without calling the runtime', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    const err = await client.version({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriCancelledError);
    expect(m.journal.entries).toHaveLength(0);
  });

  it('pullImage has no default deadline (pulls are long)', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint, 100);
    m.setPullBehaviour('localhost:5999/big:1', { kind: 'delay', ms: 300 });
    expect(await client.pullImage({ image: { image: 'localhost:5999/big:1' } })).toMatch(/^sha256:/);
  });

  it('stopContainer outlives the grace period it asks for; execSync timeouts come from the runtime', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint, 300);
    const config = {
      metadata: { name: 'p', namespace: 'n', uid: 'u' },
      linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' as const } } },
    };
    const { podSandboxId } = await client.runPodSandbox({ config });
    const id = await client.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'c' },
        image: { image: BUSYBOX },
        command: ['sleep', '3600'],
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } },
      },
    });
    await client.startContainer(id);
    const exec = await client.execSync(id, ['sleep', '5'], 1).catch((e: unknown) => e);
    expect(exec).toBeInstanceOf(CriDeadlineExceededError);
    expect((exec as CriError).details).toMatch(/timeout 1s exceeded/);
    await client.stopContainer(id, 1);
    const { status } = await client.containerStatus(id);
    expect([status?.exitCode, status?.reason]).toEqual([137, 'Error']);
    expect(m.calls('StopContainer')).toEqual([{ containerId: id, timeout: '1' }]);
  });

  it('imageStatus is null for a missing image; Remove* of unknown ids succeed', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    expect(await client.imageStatus('localhost:5999/none:1')).toBeNull();
    await client.removeContainer('nope');
    await client.removePodSandbox('nope');
    await client.removeImage('localhost:5999/none:1');
  });

  it('containerEvents yields events (full profile) and ends quietly when its signal aborts', async () => {
    const m = await startMock({ profile: 'full' });
    const client = newClient(m.endpoint);
    const ac = new AbortController();
    const types: string[] = [];
    const done = (async () => {
      for await (const ev of client.containerEvents(ac.signal)) types.push(ev.containerEventType);
    })();
    await vi.waitFor(() => expect(m.calls('GetContainerEvents')).toHaveLength(1));
    const config = { metadata: { name: 'p', namespace: 'n', uid: 'u' } };
    const { podSandboxId } = await client.runPodSandbox({ config });
    await client.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: { metadata: { name: 'c' }, image: { image: BUSYBOX } },
    });
    await vi.waitFor(() => expect(types).toEqual(['CONTAINER_CREATED_EVENT']));
    ac.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it('containerEvents on containerd 1.6 (default profile) throws CriUnimplementedError', async () => {
    const m = await startMock();
    const client = newClient(m.endpoint);
    const run = async () => {
      for await (const _ of client.containerEvents(new AbortController().signal)) {
        // never yields
      }
    };
    await expect(run()).rejects.toBeInstanceOf(CriUnimplementedError);
  });

  it('reconnects: after the runtime restarts on the same socket, the same client works again', async () => {
    const first = await startMock();
    const client = newClient(first.endpoint);
    expect((await client.version()).runtimeApiVersion).toBe('v1');

    await first.stop();
    const down = await client.version({ timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(CriUnavailableError);

    const second = await startMock({ runtimeName: 'containerd-restarted' });
    expect(second.endpoint).toBe(first.endpoint);
    const v = await vi.waitFor(() => client.version({ timeoutMs: 1_000 }), { timeout: 8_000, interval: 100 });
    expect(v.runtimeName).toBe('containerd-restarted');
    expect(second.calls('Version').length).toBeGreaterThanOrEqual(1);
  });
});
