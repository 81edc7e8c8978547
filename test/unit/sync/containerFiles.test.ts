import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import {
  criLogText,
  hostsFileContent,
  lastLogIndex,
  newTerminationLogFile,
  nodeHostsFileContent,
  readTerminationMessage,
  tailLogMessage,
  writeHostsFile,
} from '../../../src/sync/containerFiles.js';

// The files the kubelet writes for containers, against upstream kubelet_pods.go
// (managedHostsFileContent, nodeHostsFileContent, hostsEntriesFromHostAliases) and
// kuberuntime_container.go (termination message file, FallbackToLogsOnError).

const HEADER = [
  '# Kubernetes-managed hosts file.',
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web-0'): Pod {
  return { metadata: { name, namespace: 'ns1', uid: 'u1' }, spec: { containers: [], ...spec } };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('managed /etc/hosts', () => {
  it('upstream content for a pod IP (one tab between fields)', () => {
    expect(hostsFileContent(pod(), ['10.244.0.5'], 'web-0', '')).toBe(
      [...HEADER, '10.244.0.5\tweb-0', ''].join('\n'),
    );
  });

  it('every pod IP gets a line; with a subdomain the FQDN comes first', () => {
    const p = pod({ hostname: 'db', subdomain: 'backend' });
    expect(hostsFileContent(p, ['10.244.0.5', 'fd00::5'], 'db', 'backend.ns1.svc.cluster.local')).toBe(
      [
        ...HEADER,
        '10.244.0.5\tdb.backend.ns1.svc.cluster.local\tdb',
        'fd00::5\tdb.backend.ns1.svc.cluster.local\tdb',
        '',
      ].join('\n'),
    );
  });

  it('hostAliases: a blank line, the comment, then one tab-separated line per IP', () => {
    const p = pod({
      hostAliases: [
        { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
        { ip: '10.1.2.3', hostnames: ['foo.remote'] },
      ],
    });
    expect(hostsFileContent(p, ['10.244.0.5'], 'web-0', '')).toBe(
      [
        ...HEADER,
        '10.244.0.5\tweb-0',
        '',
        '# Entries added by HostAliases.',
        '127.0.0.1\tfoo.local\tbar.local',
        '10.1.2.3\tfoo.remote',
        '',
      ].join('\n'),
    );
  });

  it('hostNetwork: the node hosts file under its own header, then the aliases', () => {
    const node = '127.0.0.1\tlocalhost\n192.168.1.5\tnode-a\n';
    expect(nodeHostsFileContent(pod(), node)).toBe(
      `# Kubernetes-managed hosts file (host network).\n${node}`,
    );
    expect(nodeHostsFileContent(pod({ hostAliases: [{ ip: '1.2.3.4', hostnames: ['x'] }] }), node)).toBe(
      `# Kubernetes-managed hosts file (host network).\n${node}\n# Entries added by HostAliases.\n1.2.3.4\tx\n`,
    );
  });

  it('writeHostsFile writes <podDir>/etc-hosts with mode 0644 and rewrites it', async () => {
    const path = await writeHostsFile(join(dir, 'pod'), 'one\n');
    expect(path).toBe(join(dir, 'pod', 'etc-hosts'));
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    await writeHostsFile(join(dir, 'pod'), 'two\n');
    expect(await readFile(path, 'utf8')).toBe('two\n');
  });
});

describe('termination message and logs', () => {
  it('a fresh termination-log file per instance: empty, mode 0666, under containers/<name>/', async () => {
    const a = await newTerminationLogFile(dir, 'app');
    const b = await newTerminationLogFile(dir, 'app');
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^${join(dir, 'containers', 'app')}/[0-9a-f]{8}$`));
    const st = await stat(a);
    expect(st.mode & 0o777).toBe(0o666);
    expect(st.size).toBe(0);
  });

  it('reads at most 4096 bytes of the message; a missing file is ""', async () => {
    const f = join(dir, 'msg');
    await writeFile(f, 'x'.repeat(5000));
    expect(await readTerminationMessage(f)).toHaveLength(4096);
    expect(await readTerminationMessage(join(dir, 'nope'))).toBe('');
    expect(await readTerminationMessage('')).toBe('');
  });

  it('criLogText joins partial records and drops malformed lines', () => {
    const raw = [
      '2026-01-01T00:00:00.000000001Z stdout P hel',
      '2026-01-01T00:00:00.000000002Z stdout F lo',
      'garbage',
      '2026-01-01T00:00:00.000000003Z stderr F ',
      '2026-01-01T00:00:00.000000004Z stderr F oops',
      '',
    ].join('\n');
    expect(criLogText(raw)).toBe('hello\n\noops\n');
  });

  it('FallbackToLogsOnError text: the last 80 lines, at most 2048 bytes', async () => {
    const log = join(dir, '0.log');
    const records = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00Z stdout F line ${i}`);
    await writeFile(log, `${records.join('\n')}\n`);
    const text = await tailLogMessage(log);
    expect(text.split('\n')[0]).toBe('line 20');
    expect(text.endsWith('line 99\n')).toBe(true);
    const big = Array.from(
      { length: 50 },
      (_, i) => `2026-01-01T00:00:00Z stdout F ${String(i).padStart(99, '-')}`,
    );
    await writeFile(log, `${big.join('\n')}\n`);
    const capped = await tailLogMessage(log);
    expect(Buffer.byteLength(capped)).toBe(2048);
    expect(capped.endsWith(`${String(49).padStart(99, '-')}\n`)).toBe(true);
    expect(await tailLogMessage(join(dir, 'missing.log'))).toBe('');
  });

  it('a last partial record gets no newline', async () => {
    const log = join(dir, '0.log');
    await writeFile(log, '2026-01-01T00:00:00Z stdout F done\n2026-01-01T00:00:00Z stdout P no newline\n');
    expect(await tailLogMessage(log)).toBe('done\nno newline');
  });

  it('lastLogIndex: the highest N of N.log, -1 when none', async () => {
    expect(await lastLogIndex(join(dir, 'none'))).toBe(-1);
    for (const f of ['0.log', '3.log', '12.log', '7.log.20260101-000000', 'x.log'])
      await writeFile(join(dir, f), '');
    expect(await lastLogIndex(dir)).toBe(12);
  });
});
