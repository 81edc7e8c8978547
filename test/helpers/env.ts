import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';

/** Paths of the local environment that hack/ brings up (see hack/lib.sh). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const localDir = process.env.KUBELET_TS_LOCAL ?? join(repoRoot, '.local');
export const adminKubeconfigPath = join(localDir, 'kubeconfig', 'admin.kubeconfig');
export const k8sVersion = 'v1.37.2';
export const k8sBin = join(
  process.env.KUBELET_TS_CACHE ?? '/var/cache/kubelet-ts',
  `k8s-${k8sVersion}`,
  'bin',
);
/** The containerd hack/containerd.sh started (CONTAINERD_INSTANCE selects a second one). */
export const containerdEndpoint =
  process.env.KUBELET_TS_CRI_ENDPOINT ??
  `unix:///run/containerd${process.env.CONTAINERD_INSTANCE ? `-${process.env.CONTAINERD_INSTANCE}` : ''}/containerd.sock`;

/** The local test images (hack/images.sh). */
export const images = {
  pause: 'localhost:5999/kubelet-ts/pause:3.10',
  busybox: 'localhost:5999/kubelet-ts/busybox:1.36',
  busyboxNonRoot: 'localhost:5999/kubelet-ts/busybox-nonroot:1.36',
  /** Nothing listens there: a pull fails at once, without leaving this machine. */
  missing: 'localhost:5999/kubelet-ts/does-not-exist:1',
} as const;

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfigPath);
  return kc;
}

/** A node kubeconfig (O=system:nodes, CN=system:node:NAME), issued by hack/pki.sh. */
export function nodeKubeconfigPath(nodeName: string): string {
  return execFileSync('bash', [join(repoRoot, 'hack', 'pki.sh'), 'node', nodeName], {
    encoding: 'utf8',
  }).trim();
}

export function nodeKubeConfig(nodeName: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(nodeKubeconfigPath(nodeName));
  return kc;
}

/** A DNS-1123 name unique to this run, e.g. `smoke-3fa9c2`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Polls `fn` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
