import { afterEach, describe, expect, it } from 'vitest';
import { CriClient } from '../../../src/cri/client.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { Pleg, type PlegEvent } from '../../../src/cri/pleg.js';

const busybox = 'localhost:5999/kubelet-ts/busybox:1.36';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(profile: 'containerd-1.6' | 'full', relistPeriodMs: number) {
  const mock = await CriMock.start({ profile });
  const cri = new CriClient({ endpoint: mock.endpoint });
  const events: (PlegEvent & { at: number })[] = [];
  const pleg = new Pleg({
    cri,
    relistPeriodMs,
    eventedRelistPeriodMs: 60_000,
    onEvent: (e) => events.push({ ...e, at: Date.now() }),
  });
  const ac = new AbortController();
  void pleg.run(ac.signal);
  cleanup.push(
    () => cri.close(),
    () => mock.stop(),
    () => ac.abort(),
  );
  return { mock, cri, events, pleg };
}

async function runPod(
  cri: CriClient,
  uid: string,
  command: string[],
): Promise<{ sandbox: string; container: string }> {
  const labels = {
    'io.kubernetes.pod.uid': uid,
    'io.kubernetes.pod.name': 'p',
    'io.kubernetes.pod.namespace': 'd',
  };
  const sandboxConfig = {
    metadata: { name: 'p', namespace: 'd', uid, attempt: 0 },
    labels,
    logDirectory: '/tmp',
  };
  const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
  const container = await cri.createContainer({
    podSandboxId,
    sandboxConfig,
    config: {
      metadata: { name: 'c', attempt: 0 },
      image: { image: busybox },
      command,
      labels: { ...labels, 'io.kubernetes.container.name': 'c' },
      logPath: 'c/0.log',
    },
  });
  await cri.startContainer(container);
  return { sandbox: podSandboxId, container };
}

const until = async (f: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('PLEG', () => {
  it('turns relisted state changes into per-pod events (started, died, removed)', async () => {
    const { cri, events, pleg } = await setup('containerd-1.6', 100);
    await until(() => pleg.hasRelisted, 2_000);
    const { sandbox, container } = await runPod(cri, 'u1', ['sh', '-c', 'sleep 0.3; exit 1']);
    await until(() => events.some((e) => e.type === 'ContainerDied' && e.id === container), 3_000);
    const mine = events
      .filter((e) => e.podUid === 'u1')
      .map((e) => `${e.type}:${e.id === sandbox ? 'sandbox' : 'c'}`);
    expect(mine).toEqual(
      expect.arrayContaining(['ContainerStarted:sandbox', 'ContainerStarted:c', 'ContainerDied:c']),
    );
    expect(pleg.runtimePods().get('u1')).toMatchObject({ name: 'p', namespace: 'd', readySandboxes: 1 });
    await cri.removeContainer(container);
    await until(() => events.some((e) => e.type === 'ContainerRemoved' && e.id === container), 3_000);
    expect(pleg.healthy()).toEqual({ ok: true, message: '' });
  });

  it('uses the runtime event stream where it exists to notice changes without waiting for a relist', async () => {
    const { cri, events, pleg } = await setup('full', 60_000);
    await until(() => pleg.hasRelisted, 2_000);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const { container } = await runPod(cri, 'u2', ['sleep', 'infinity']);
    await until(() => events.some((e) => e.type === 'ContainerStarted' && e.id === container), 2_000);
    // The periodic relist is a minute away: only the event stream can explain a prompt event.
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
