import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeconfigError, loadKubeconfig } from '../../../src/api/kubeconfig.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-kc-'));
  await writeFile(join(dir, 'ca.crt'), 'CA-PEM');
  await writeFile(join(dir, 'client.crt'), 'CERT-PEM');
  await writeFile(join(dir, 'client.key'), 'KEY-PEM');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('loadKubeconfig', () => {
  it('reads embedded data of the current context', async () => {
    const p = join(dir, 'embedded.yaml');
    await writeFile(
      p,
      `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: { server: https://other:1 }
- name: local
  cluster: { server: https://127.0.0.1:6443, certificate-authority-data: ${b64('CA')} }
users:
- name: node
  user: { client-certificate-data: ${b64('C')}, client-key-data: ${b64('K')} }
contexts:
- name: node@local
  context: { cluster: local, user: node }
current-context: node@local
`,
    );
    const c = loadKubeconfig(p);
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.ca?.toString()).toBe('CA');
    expect(c.cert?.toString()).toBe('C');
    expect(c.key?.toString()).toBe('K');
    expect(c.insecureSkipTLSVerify).toBe(false);
  });

  it('resolves relative file paths against the kubeconfig directory, and token files', async () => {
    const p = join(dir, 'files.yaml');
    await writeFile(
      p,
      `clusters: [{ name: c, cluster: { server: "https://x:6443", certificate-authority: ca.crt } }]
users: [{ name: u, user: { client-certificate: client.crt, client-key: ${join(dir, 'client.key')}, tokenFile: token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    const c = loadKubeconfig(p);
    expect(c.ca?.toString()).toBe('CA-PEM');
    expect(c.cert?.toString()).toBe('CERT-PEM');
    expect(c.key?.toString()).toBe('KEY-PEM');
    expect(c.tokenFile).toBe(join(dir, 'token'));
  });

  it('fails clearly on a missing context, a missing file, and exec plugins', async () => {
    const p = join(dir, 'bad.yaml');
    await writeFile(p, 'clusters: []\ncontexts: []\ncurrent-context: nope\n');
    expect(() => loadKubeconfig(p)).toThrow(/context "nope" not found/);
    const q = join(dir, 'exec.yaml');
    await writeFile(
      q,
      'clusters: [{name: c, cluster: {server: "https://x"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    expect(() => loadKubeconfig(q)).toThrow(KubeconfigError);
    expect(() => loadKubeconfig(q)).toThrow(/exec plugins/);
    const r = join(dir, 'nofile.yaml');
    await writeFile(
      r,
      'clusters: [{name: c, cluster: {server: "https://x", certificate-authority: missing.crt}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    expect(() => loadKubeconfig(r)).toThrow(/missing\.crt/);
    expect(() => loadKubeconfig(join(dir, 'absent.yaml'))).toThrow(/cannot read kubeconfig/);
  });
});
