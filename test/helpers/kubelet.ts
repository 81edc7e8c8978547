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
