import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/env.js';

// The kubelet binary's command-line behaviour: clear errors for bad input, patient retries with
// a reason when the runtime or the apiserver cannot be reached, clean exit on SIGTERM.

const bin = join(repoRoot, 'dist', 'src', 'main.js');
let dir: string;

interface Run {
  code: number | null;
  out: string;
}

/** Runs the kubelet; when `until` matches its output, sends SIGTERM. Kills it after `timeoutMs`. */
function kubelet(args: string[], until?: RegExp, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let termed = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until && !termed && until.test(out)) {
        termed = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kubelet-ts command line', () => {
  it('rejects an unknown flag with exit code 2 and says which', async () => {
    const r = await kubelet(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('unknown flag: --no-such-flag');
  });

  it('rejects a bad config file naming the field and the value', async () => {
    const cfg = join(dir, 'bad.yaml');
    await writeFile(
      cfg,
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: lots\n',
    );
    const r = await kubelet(['--config', cfg, '--kubeconfig', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('maxPods');
    expect(r.out).toContain('lots');
  });

  it('requires --kubeconfig', async () => {
    const r = await kubelet([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--kubeconfig is required');
  });

  it('waits for an unreachable runtime, saying why, and exits 0 on SIGTERM', async () => {
    const kc = join(dir, 'kc.yaml');
    await writeFile(
      kc,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const r = await kubelet(
      ['--kubeconfig', kc, '--container-runtime-endpoint', `unix://${dir}/nothing.sock`, '--root-dir', dir],
      /waiting for the container runtime/,
    );
    expect(r.out).toContain(`waiting for the container runtime at unix://${dir}/nothing.sock`);
    expect(r.code).toBe(0);
  });

  it('waits for an unreachable apiserver, saying why', async () => {
    const kc = join(dir, 'kc.yaml');
    const r = await kubelet(['--kubeconfig', kc, '--root-dir', dir], /waiting for the API server/);
    expect(r.out).toContain('waiting for the API server at https://127.0.0.1:1/');
    expect(r.out).toContain('ECONNREFUSED');
    expect(r.code).toBe(0);
  });
});
