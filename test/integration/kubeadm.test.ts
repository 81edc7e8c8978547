import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ObjectList, Pod } from '../../src/api/types.js';
import { k8sBin, localDir, repoRoot } from '../helpers/env.js';

// The unmodified `kubeadm init` v1.37.2 with kubelet-ts as the node's kubelet (issue 12):
// hack/kubeadm/cluster.sh builds kubeadm and the control-plane images locally, runs the init in
// its own network namespace with its own containerd (the shared node is not touched), and
// kubelet-ts has to boot etcd, kube-apiserver, controller-manager and scheduler as static pods
// with no API server, mirror them, and then run kube-proxy and CoreDNS.

const run = promisify(execFile);
const env = { ...process.env, KUBELET: 'ts', KUBELET_TS_LOCAL: localDir };
const cluster = (verb: string, timeoutMs: number) =>
  run('bash', [join(repoRoot, 'hack', 'kubeadm', 'cluster.sh'), verb], {
    env,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  }).catch(async (err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`cluster.sh ${verb} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });

async function kubectlJson<T>(...args: string[]): Promise<T> {
  const { stdout } = await run(join(k8sBin, 'kubectl'), [
    '--kubeconfig',
    '/etc/kubernetes/admin.conf',
    ...args,
    '-o',
    'json',
  ]);
  return JSON.parse(stdout) as T;
}

afterAll(async () => {
  await cluster('down', 300_000).catch(() => {});
}, 320_000);

describe('kubeadm init with kubelet-ts as the kubelet', () => {
  it('boots the control plane as static pods and mirrors them; DNS and Services work', async () => {
    await cluster('up', 1_500_000);
    const init = await readFile(join(localDir, 'logs', 'kubeadm-init.log'), 'utf8');
    expect(init).toContain('Your Kubernetes control-plane has initialized successfully!');
    // The KubeletVersion preflight check runs (it is no longer ignored) and passes.
    expect(init).not.toContain('KubeletVersion');
    expect(init).toContain(
      '[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client certificate and key',
    );

    const pods = await kubectlJson<ObjectList<Pod>>('-n', 'kube-system', 'get', 'pods');
    for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const mirror = pods.items.find((p) => p.metadata?.name === `${component}-kubeadm-control-plane`);
      expect(mirror, component).toBeDefined();
      const a = mirror?.metadata?.annotations ?? {};
      expect(a['kubernetes.io/config.source']).toBe('file');
      expect(a['kubernetes.io/config.mirror']).toBe(a['kubernetes.io/config.hash']);
      expect(mirror?.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'Node',
        name: 'kubeadm-control-plane',
        controller: true,
      });
      expect(mirror?.status?.phase).toBe('Running');
      expect(mirror?.spec?.priorityClassName).toBe('system-node-critical');
    }

    const { stdout } = await cluster('smoke', 300_000);
    expect(stdout).toMatch(/Service by name web\.kadm-smoke\.svc\.cluster\.local: kadm-smoke-ok/);
    expect(stdout).toContain('kubectl logs: ok');
  }, 1_800_000);
});
