import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  VersionApi,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../src/cri/client.js';
import {
  adminKubeConfig,
  containerdEndpoint,
  eventually,
  nodeKubeConfig,
  uniqueName,
} from '../helpers/env.js';

// Proves the environment hack/ brings up is the real thing: the pinned apiserver, the Node
// authorizer + NodeRestriction, a working scheduler, and containerd's CRI.

const admin = adminKubeConfig().makeApiClient(CoreV1Api);
const created: string[] = [];

function nodeObject(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    },
  };
}

async function statusCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

afterAll(async () => {
  for (const name of created) await admin.deleteNode({ name }).catch(() => {});
});

describe('local environment smoke', () => {
  it('serves the pinned Kubernetes version', async () => {
    const v = await adminKubeConfig().makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe('v1.37.2');
    expect(v.major).toBe('1');
    expect(v.minor).toBe('37');
  });

  it('lets node credentials create and update their own Node but not another node', async () => {
    const self = uniqueName('smoke-self');
    const other = uniqueName('smoke-other');
    created.push(self, other);
    const nodeApi = nodeKubeConfig(self).makeApiClient(CoreV1Api);

    await nodeApi.createNode({ body: nodeObject(self) });
    const patch = { metadata: { labels: { 'node.kubernetes.io/instance-type': 'smoke' } } };
    const updated = await nodeApi.patchNode(
      { name: self, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(updated.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('smoke');

    // Creating another node's object: NodeRestriction refuses.
    expect(await statusCode(nodeApi.createNode({ body: nodeObject(other) }))).toBe(403);
    // Updating another node's object: the Node authorizer refuses.
    await admin.createNode({ body: nodeObject(other) });
    expect(
      await statusCode(
        nodeApi.patchNode(
          { name: other, body: patch },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      ),
    ).toBe(403);
    expect(
      await statusCode(
        nodeApi.patchNodeStatus(
          { name: other, body: { status: { phase: 'Running' } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      ),
    ).toBe(403);
  });

  it('schedules a pod onto a Ready node', async () => {
    const name = uniqueName('smoke-ready');
    created.push(name);
    const nodeApi = nodeKubeConfig(name).makeApiClient(CoreV1Api);
    await nodeApi.createNode({ body: nodeObject(name) });
    const now = new Date();
    await nodeApi.patchNodeStatus(
      {
        name,
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet is posting ready status',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );

    // The default service account appears shortly after a namespace exists.
    await eventually('default service account', async () =>
      (await admin
        .readNamespacedServiceAccount({ name: 'default', namespace: 'default' })
        .catch(() => undefined))
        ? true
        : undefined,
    );
    const podName = uniqueName('smoke-pod');
    await admin.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: podName },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': name },
          automountServiceAccountToken: false,
          containers: [{ name: 'c', image: 'localhost:5999/kubelet-ts/busybox:1.36' }],
        },
      },
    });
    try {
      const bound = await eventually('the scheduler to bind the pod', async () => {
        const p = await admin.readNamespacedPod({ name: podName, namespace: 'default' });
        return p.spec?.nodeName || undefined;
      });
      expect(bound).toBe(name);
    } finally {
      await admin
        .deleteNamespacedPod({ name: podName, namespace: 'default', gracePeriodSeconds: 0 })
        .catch(() => {});
    }
  });

  it('reaches containerd over the CRI with runtime and network ready', async () => {
    const cri = new CriClient({ endpoint: containerdEndpoint });
    try {
      const v = await cri.version();
      expect(v.runtimeName).toBe('containerd');
      expect(v.runtimeApiVersion).toBe('v1');
      const s = await cri.status();
      const conds = Object.fromEntries((s.status?.conditions ?? []).map((c) => [c.type, c.status]));
      expect(conds).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    } finally {
      cri.close();
    }
  });
});
