import { describe, expect, it } from 'vitest';
import {
  apiObjectReference,
  decodeStaticPods,
  fnv128a,
  StaticPodManifestError,
  staticPodPriorityWarning,
} from '../../../src/sync/staticPodManifest.js';

const SRC = { nodeName: 'Node-A', source: '/etc/kubernetes/manifests/etcd.yaml', isFile: true };

const ETCD = `
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
  labels: {component: etcd, tier: control-plane}
spec:
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.7.0-0
    command: [etcd, --data-dir=/var/lib/etcd]
    livenessProbe:
      httpGet: {host: 127.0.0.1, path: /livez, port: 2381}
    volumeMounts: [{name: etcd-data, mountPath: /var/lib/etcd}]
  volumes:
  - name: etcd-data
    hostPath: {path: /var/lib/etcd, type: DirectoryOrCreate}
`;

describe('fnv128a (Go hash/fnv New128a golden values)', () => {
  it.each([
    ['', '6c62272e07bb014262b821756295c58d'],
    ['a', 'd228cb696f1a8caf78912b704e4a8964'],
    ['ab', '08809544bbab1be95aa0733055b69a62'],
    ['abc', 'a68d622cec8b5822836dbc7977af7f3b'],
  ])('%j → %s', (input, hex) => {
    expect(fnv128a(Buffer.from(input))).toBe(hex);
  });
});

describe('decodeStaticPods (upstream config/common.go applyDefaults)', () => {
  it('names, places and annotates the pod as upstream', () => {
    const [pod] = decodeStaticPods(ETCD, SRC);
    expect(pod?.metadata?.name).toBe('etcd-node-a');
    expect(pod?.metadata?.namespace).toBe('kube-system');
    expect(pod?.spec?.nodeName).toBe('Node-A');
    expect(pod?.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod?.metadata?.annotations?.['kubernetes.io/config.hash']).toBe(pod?.metadata?.uid);
    expect(pod?.spec?.tolerations).toEqual([{ operator: 'Exists', effect: 'NoExecute' }]);
    expect(pod?.status?.phase).toBe('Pending');
    // Priority is left as written (no priority class resolution for static pods).
    expect(pod?.spec?.priority).toBe(2000001000);
    expect(pod?.spec?.priorityClassName).toBe('system-node-critical');
  });

  it('gives the v1 defaults the apiserver would', () => {
    const [pod] = decodeStaticPods(ETCD, SRC);
    const c = pod?.spec?.containers[0];
    expect(pod?.spec?.restartPolicy).toBe('Always');
    expect(pod?.spec?.dnsPolicy).toBe('ClusterFirst');
    expect(pod?.spec?.terminationGracePeriodSeconds).toBe(30);
    expect(pod?.spec?.schedulerName).toBe('default-scheduler');
    expect(c?.imagePullPolicy).toBe('IfNotPresent');
    expect(c?.terminationMessagePath).toBe('/dev/termination-log');
    expect(c?.terminationMessagePolicy).toBe('File');
    expect(c?.livenessProbe).toMatchObject({
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
      httpGet: { scheme: 'HTTP' },
    });
  });

  it('defaults the namespace to default and pulls :latest / untagged images Always', () => {
    const [pod] = decodeStaticPods(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: c, image: busybox}]\n',
      SRC,
    );
    expect(pod?.metadata?.namespace).toBe('default');
    expect(pod?.spec?.containers[0]?.imagePullPolicy).toBe('Always');
  });

  it('keeps a UID written in the manifest', () => {
    const text = ETCD.replace('  name: etcd\n', '  name: etcd\n  uid: fixed-uid\n');
    expect(decodeStaticPods(text, SRC)[0]?.metadata?.uid).toBe('fixed-uid');
  });

  it('derives the UID from content, node and path: stable, and new on any change', () => {
    const uid = (text: string, src = SRC) => decodeStaticPods(text, src)[0]?.metadata?.uid;
    expect(uid(ETCD)).toBe(uid(ETCD));
    expect(uid(ETCD.replace('3.7.0-0', '3.7.1-0'))).not.toBe(uid(ETCD));
    expect(uid(ETCD, { ...SRC, nodeName: 'node-b' })).not.toBe(uid(ETCD));
    expect(uid(ETCD, { ...SRC, source: '/etc/kubernetes/manifests/etcd2.yaml' })).not.toBe(uid(ETCD));
    // JSON and YAML spellings of the same manifest are the same pod.
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
    });
    const yaml =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{image: "busybox:1", name: c}]\n';
    expect(uid(json)).toBe(uid(yaml));
  });

  it('refuses what upstream refuses, with its messages', () => {
    const err = (text: string) => {
      try {
        decodeStaticPods(text, SRC);
      } catch (e) {
        expect(e).toBeInstanceOf(StaticPodManifestError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: i}]}\n')).toBe(
      'invalid pod: name is needed for the pod',
    );
    expect(
      err(
        'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  serviceAccountName: default\n  containers: [{name: c, image: i}]\n',
      ),
    ).toBe('static pods may not reference serviceaccounts');
    expect(err('apiVersion: v1\nkind: Service\nmetadata: {name: x}\n')).toContain("couldn't parse as pod");
    expect(err('a: [unclosed')).toContain("couldn't parse as pod");
  });

  it('reads a PodList from the http source', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'PodList',
      items: [
        { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
        { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
      ],
    });
    const pods = decodeStaticPods(list, { nodeName: 'n', source: 'http://x/pods', isFile: false }, true);
    expect(pods.map((p) => p.metadata?.name)).toEqual(['a-n', 'b-n']);
    // The http source adds no toleration (upstream: file source only).
    expect(pods[0]?.spec?.tolerations).toBeUndefined();
  });
});

describe('apiObjectReference (podutil.HasAPIObjectReference)', () => {
  it.each([
    [{ volumes: [{ name: 'v', secret: { secretName: 's' } }] }, 'secrets (via secret volumes)'],
    [{ volumes: [{ name: 'v', configMap: { name: 'c' } }] }, 'configmaps (via configmap volumes)'],
    [{ volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }] }, 'persistentvolumeclaims'],
    [
      { volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }] },
      'serviceaccounts (via projected volumes)',
    ],
    [{ volumes: [{ name: 'v', hostPath: { path: '/x' } }] }, undefined],
  ])('%j → %s', (spec, want) => {
    expect(apiObjectReference({ spec: { containers: [{ name: 'c' }], ...spec } })).toBe(want);
  });
});

describe('staticPodPriorityWarning', () => {
  it('matches upstream getStaticPodPriorityWarning', () => {
    expect(
      staticPodPriorityWarning({
        spec: { containers: [], priority: 2000001000, priorityClassName: 'system-node-critical' },
      }),
    ).toBeUndefined();
    expect(
      staticPodPriorityWarning({ spec: { containers: [], priorityClassName: 'system-node-critical' } }),
    ).toBe(
      'Static pod has priorityClassName and nil priority. Kubelet will not use priorityClassName, and mirror pod creation may fail.',
    );
  });
});
