import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../../../../src/api/types.js';
import { CriMock } from '../../../../src/cri/mock/index.js';
import { KubeletHarness, testPod } from '../../../helpers/kubeletHarness.js';
import { ESCAPE, type HostileCase, hostileCases, type Outcome } from './cases.js';

// Every hostile spec of cases.ts at once, beside a sentinel pod, through admission and the
// sync loop on the CRI mock: each gets its reason, the sentinel keeps its container, nothing
// is written outside the kubelet's pod directories, and a pod created afterwards starts as fast.

let mock: CriMock;
let h: KubeletHarness;
const cases = hostileCases();
const uid = (p: Pod) => p.metadata?.uid ?? '';

beforeAll(async () => {
  mock = await CriMock.start({ journalLimit: 1_000_000 });
  // containerd's answer for an argv[0] that is not in the image.
  mock.program((v) => v.command[0] === '/no/such/binary', {
    startError:
      'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory: unknown',
  });
  h = await KubeletHarness.start(mock.endpoint);
  h.put({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { color: 'blue' } });
  h.put({
    kind: 'Secret',
    metadata: { name: 'creds', namespace: 'default' },
    data: { password: 'aHVudGVyMg==' },
  });
  h.put({
    kind: 'ConfigMap',
    metadata: { name: 'evil-keys', namespace: 'default' },
    data: { '..': 'x', [`../${ESCAPE}`]: 'x' },
  });
  h.put({
    kind: 'ConfigMap',
    metadata: { name: 'big', namespace: 'default' },
    data: { blob: 'b'.repeat(1024 * 1024) },
  });
  h.put({
    kind: 'ConfigMap',
    metadata: { name: 'many', namespace: 'default' },
    data: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, `v${i}`])),
  });
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await mock?.stop();
});

function mainState(s: PodStatus | undefined, name?: string) {
  const all = [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])];
  const cs = name ? all.find((c) => c.name === name) : s?.containerStatuses?.[0];
  if (!cs?.state) return undefined;
  if (cs.state.running) return { state: 'running', message: '' };
  if (cs.state.waiting)
    return { state: cs.state.waiting.reason ?? '', message: cs.state.waiting.message ?? '' };
  const t = cs.state.terminated;
  return { state: t?.reason ?? '', message: t?.message ?? '', exitCode: t?.exitCode };
}

/** What a user sees of the pod, in the shape of an Outcome (only the fields `want` names). */
function observe(p: Pod, want: Outcome): Outcome {
  const s = h.status(uid(p));
  const got: Outcome = {};
  if (want.phase !== undefined) got.phase = s?.phase;
  if (want.reason !== undefined) got.reason = s?.reason;
  const st = mainState(s, want.container);
  if (want.state !== undefined) got.state = st?.state;
  if (want.states !== undefined)
    got.states = want.states.includes(st?.state ?? '') ? want.states : [st?.state ?? ''];
  if (want.container !== undefined) got.container = want.container;
  if (want.exitCode !== undefined) got.exitCode = st?.exitCode;
  const events = h.events.filter((e) => e.ref.uid === uid(p));
  if (want.event !== undefined) got.event = events.find((e) => e.reason === want.event)?.reason;
  if (want.message !== undefined) {
    const texts = [
      s?.message ?? '',
      st?.message ?? '',
      ...events.filter((e) => !want.event || e.reason === want.event).map((e) => e.message),
    ];
    got.message = texts.some((t) => t.includes(want.message ?? ''))
      ? want.message
      : [...new Set(texts.filter(Boolean).map((t) => t.slice(0, 200)))].join(' | ');
  }
  return got;
}

const summary = (c: HostileCase) => {
  const s = h.status(uid(c.pod));
  const st = mainState(s, c.expect.container);
  const ev = h.events.filter((e) => e.ref.uid === uid(c.pod) && e.type === 'Warning').map((e) => e.reason);
  return `${s?.phase ?? '-'} ${s?.reason ?? ''} ${st?.state ?? ''} ${[...new Set(ev)].join(',')}`
    .replace(/\s+/g, ' ')
    .trim();
};

/** Every file and directory below `dir`, relative to it. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(relative(dir, p));
      if (e.isDirectory()) go(p);
    }
  };
  go(dir);
  return out;
}

async function startTime(name: string): Promise<number> {
  const p = testPod(name);
  const t0 = performance.now();
  h.update(p);
  await h.waitFor(`${name} Running`, () => h.status(uid(p))?.phase === 'Running', 30_000);
  return performance.now() - t0;
}

describe(`a corpus of ${cases.length} hostile pod specs`, () => {
  let sentinel: Pod;
  let sentinelId = '';
  let baselineMs = 0;

  it('starts a sentinel pod (with a hostPort) and measures a pod start as the baseline', async () => {
    sentinel = testPod('sentinel', {
      containers: [
        {
          name: 'app',
          image: 'localhost:5999/kubelet-ts/busybox:1.36',
          command: ['sleep', 'infinity'],
          ports: [{ containerPort: 80, hostPort: 18080, protocol: 'TCP' }],
        },
      ],
    });
    h.update(sentinel);
    await h.waitFor('sentinel Running', () => h.status(uid(sentinel))?.phase === 'Running');
    sentinelId = h.status(uid(sentinel))?.containerStatuses?.[0]?.containerID ?? '';
    expect(sentinelId).toMatch(/^containerd:\/\//);
    baselineMs = await startTime('baseline');
  });

  it('gives every hostile pod its reason', async () => {
    for (const c of cases) h.update(c.pod);
    const want = JSON.parse(JSON.stringify(Object.fromEntries(cases.map((c) => [c.name, c.expect]))));
    const deadline = Date.now() + 45_000;
    let got: Record<string, Outcome> = {};
    for (;;) {
      got = Object.fromEntries(cases.map((c) => [c.name, observe(c.pod, c.expect)]));
      if (isDeepStrictEqual(got, want) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const table = cases.map((c) => `| ${c.name} | ${summary(c)} |`).join('\n');
    console.log(
      `corpus: ${cases.length} specs\n| case | phase reason state warning-events |\n|---|---|\n${table}`,
    );
    expect(got).toEqual(want);
  }, 60_000);

  it('keeps the sentinel running with the same container, started once', async () => {
    const s = h.status(uid(sentinel));
    expect(s?.phase).toBe('Running');
    expect(s?.containerStatuses?.[0]?.containerID).toBe(sentinelId);
    expect(s?.containerStatuses?.[0]?.restartCount).toBe(0);
    const created = mock
      .calls('CreateContainer')
      .filter((c) => c.sandboxConfig?.metadata?.uid === uid(sentinel));
    expect(created).toHaveLength(1);
  });

  it('runs no probe in a tight loop for absurd probe periods', async () => {
    for (const name of ['probe-absurd-periods', 'probe-zero-and-negative']) {
      const p = cases.find((c) => c.name === name)?.pod;
      const ids = new Set(
        mock
          .calls('CreateContainer')
          .filter((c) => c.sandboxConfig?.metadata?.uid === uid(p as Pod))
          .map((c) => c.config?.metadata?.name),
      );
      expect(ids.size).toBe(1);
    }
    const before = mock.calls('ExecSync').length;
    await new Promise((r) => setTimeout(r, 2_000));
    // Two probed pods with 1 s minimum periods: at most a handful of execs in 2 s.
    expect(mock.calls('ExecSync').length - before).toBeLessThan(20);
  });

  it('writes nothing outside the pod directories and the pod log directories', async () => {
    const under = walk(h.dir);
    const outside = under.filter((p) => !/^(root(\/pods(\/.*)?)?|logs(\/.*)?)$/.test(p));
    expect(outside).toEqual([]);
    expect(under.filter((p) => p.includes(ESCAPE))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((n) => n.includes(ESCAPE))).toEqual([]);
    expect(readdirSync(join(h.dir, '..')).filter((n) => n.includes(ESCAPE))).toEqual([]);
    expect(statSync(join(h.dir, 'root', 'pods')).isDirectory()).toBe(true);
  });

  it('still starts a new pod about as fast as before the corpus', async () => {
    const afterMs = await startTime('after');
    console.log(
      `pod start: baseline ${Math.round(baselineMs)} ms, after the corpus ${Math.round(afterMs)} ms`,
    );
    // Generous: the mock starts a pod in well under a second.
    expect(afterMs).toBeLessThan(Math.max(10 * baselineMs, 5_000));
  });
});
