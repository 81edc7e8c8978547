import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RestClient } from '../../src/api/rest.js';
import type { Pod } from '../../src/api/types.js';
import { adminKubeConfig, eventually, repoRoot } from './env.js';

const run = promisify(execFile);

/** Starts kubelet-ts (dist/) as node `name` through hack/kubelet.sh; waits until the node is Ready. */
export async function startKubelet(name: string, env: Record<string, string> = {}): Promise<void> {
  try {
    await run('bash', [join(repoRoot, 'hack', 'kubelet.sh'), 'up'], {
      env: { ...process.env, NODE_NAME: name, ...env },
      timeout: 180_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubelet-ts did not become Ready as node ${name}: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export async function stopKubelet(): Promise<void> {
  await run('bash', [join(repoRoot, 'hack', 'kubelet.sh'), 'down'], { timeout: 60_000 });
}

/** How a node's kubelet runs: the same for kubelet-ts and the upstream kubelet when they swap. */
export interface NodeSetup {
  node: string;
  /** A KubeletConfiguration file, used as it is. */
  config: string;
  rootDir: string;
  /** The containerd socket path the config names. */
  criSocket: string;
}

/**
 * Starts kubelet-ts (dist/) with exactly `s.config` and `s.rootDir`, as node `s.node` with the
 * node's usual credentials (hack/pki.sh). Returns once the script saw the node Ready: on a
 * node that is already Ready that is at once, so callers wait for the new process themselves.
 */
export async function startKubeletWith(s: NodeSetup): Promise<void> {
  await runUp('kubelet.sh', 'kubelet-ts', s, { KUBELET_CONFIG: s.config, KUBELET_ROOT_DIR: s.rootDir });
}

/** Starts the upstream kubelet (hack/build-k8s.sh's, at the pin) like startKubeletWith. */
export async function startUpstreamKubelet(s: NodeSetup): Promise<void> {
  await runUp('upstream-kubelet.sh', 'the upstream kubelet', s, {
    UPSTREAM_KUBELET_CONFIG: s.config,
    UPSTREAM_KUBELET_ROOT_DIR: s.rootDir,
    CONTAINERD_INSTANCE: '',
    CONTAINERD_SOCK: s.criSocket,
    // The node's containerd is shared on purpose: the two kubelets take turns on it.
    UPSTREAM_KUBELET_ALLOW_DEFAULT_CONTAINERD: '1',
  });
}

/** Stops the upstream kubelet started by startUpstreamKubelet (SIGTERM; pods keep running). */
export async function stopUpstreamKubelet(): Promise<void> {
  await run('bash', [join(repoRoot, 'hack', 'upstream-kubelet.sh'), 'down'], { timeout: 60_000 });
}

async function runUp(script: string, what: string, s: NodeSetup, env: Record<string, string>): Promise<void> {
  try {
    await run('bash', [join(repoRoot, 'hack', script), 'up'], {
      env: { ...process.env, NODE_NAME: s.node, ...env },
      timeout: 180_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${what} did not become Ready as node ${s.node}: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export async function adminRest(): Promise<RestClient> {
  return RestClient.fromKubeConfig(adminKubeConfig());
}

export const podPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;

export async function createPod(rest: RestClient, ns: string, pod: Pod): Promise<Pod> {
  return rest.create<Pod>(podPath(ns), pod);
}

export async function getPod(rest: RestClient, ns: string, name: string): Promise<Pod | undefined> {
  try {
    return await rest.get<Pod>(podPath(ns, name));
  } catch {
    return undefined;
  }
}

/** Waits until `pred` holds for the pod, returning it (fails with the last status seen). */
export async function waitPod(
  rest: RestClient,
  ns: string,
  name: string,
  what: string,
  pred: (p: Pod) => boolean,
  timeoutMs = 60_000,
): Promise<Pod> {
  let last: Pod | undefined;
  try {
    return await eventually(
      what,
      async () => {
        last = await getPod(rest, ns, name);
        return last && pred(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status)}`);
  }
}

export async function createNamespace(rest: RestClient, name: string): Promise<void> {
  await rest.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await eventually('default service account', async () =>
    (await rest.get(`/api/v1/namespaces/${name}/serviceaccounts/default`).catch(() => undefined))
      ? true
      : undefined,
  );
}
