import { CriClient } from '../../src/cri/client.js';
import { containerdEndpoint } from './env.js';

/** What the runtime itself holds for one pod: the ground truth a kubelet's status must match. */
export interface RuntimeView {
  sandboxes: { id: string; state: string; createdAt: string }[];
  containers: {
    id: string;
    name: string;
    attempt: number;
    state: string;
    createdAt: string;
    sandboxId: string;
  }[];
}

export function runtimeClient(): CriClient {
  return new CriClient({ endpoint: containerdEndpoint });
}

/** The pod's sandboxes and containers as containerd lists them (CRI ListPodSandbox/ListContainers). */
export async function runtimeView(cri: CriClient, podUid: string): Promise<RuntimeView> {
  const label = { 'io.kubernetes.pod.uid': podUid };
  const sandboxes = await cri.listPodSandbox({ labelSelector: label });
  const containers = await cri.listContainers({ labelSelector: label });
  return {
    sandboxes: sandboxes
      .map((s) => ({ id: s.id, state: s.state, createdAt: s.createdAt }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    containers: containers
      .map((c) => ({
        id: c.id,
        name: c.metadata?.name ?? '',
        attempt: c.metadata?.attempt ?? 0,
        state: c.state,
        createdAt: c.createdAt,
        sandboxId: c.podSandboxId,
      }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.attempt - b.attempt),
  };
}

/** `containerd://<id>` → `<id>`. */
export const bareId = (containerID: string | undefined) => (containerID ?? '').replace(/^[a-z]+:\/\//, '');
