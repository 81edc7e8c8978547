import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../../src/api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../../src/cri/runtimeState.js';
import { containerHash, goJsonString, parseContainerHash } from '../../../src/sync/hash.js';
import { computePodActions } from '../../../src/sync/plan.js';

// Expected values printed by the upstream code at v1.37.2: hack/upstream-hash.sh runs
// k8s.io/kubernetes/pkg/kubelet/container.HashContainer and formats it as kuberuntime writes
// io.kubernetes.container.hash (strconv.FormatUint(h, 16)).
const UPSTREAM: Array<[name: string, image: string, hash: string]> = [
  ['c', 'busybox', 'ad819b5c'],
  ['web', 'registry.k8s.io/e2e-test-images/agnhost:2.66.1', 'c130154f'],
  ['sidecar', 'localhost:5999/kubelet-ts/busybox:1.36', '156414b'],
  ['x', '', 'b41f3dd'],
  ['app', 'localhost:5999/kubelet-ts/busybox:1.36', '41c3d94b'],
  ['init', 'localhost:5999/kubelet-ts/busybox:1.36', 'd3de4533'],
  ['ünï', 'img:tag@sha256:abc', '2d2a8f51'],
  // json.Marshal's HTML escaping of <, >, &.
  ['a<b>&', 'i<>&mg', '3d382349'],
  // Control characters (\b and \f short forms, \u00XX otherwise), DEL raw, quotes, backslash,
  // slash unescaped, U+2028/U+2029 escaped, non-ASCII and astral characters raw.
  ['a\b\f\n\r\t\x01\x1f\x7f"\\/\u2028\u2029<>&é\u{1F600}', 'x', 'ba448010'],
];

describe('containerHash (upstream HashContainer)', () => {
  it.each(UPSTREAM)('(%j, %j) → %s', (name, image, hash) => {
    expect(containerHash({ name, image })).toBe(hash);
  });

  it('hashes a missing image like an empty one (Go zero value)', () => {
    expect(containerHash({ name: 'x' })).toBe('b41f3dd');
  });

  it('writes strings as Go encoding/json does', () => {
    expect(goJsonString('<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(goJsonString('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(goJsonString('\b\f\u0000')).toBe('"\\b\\f\\u0000"');
    expect(goJsonString('\uD800x')).toBe('"\uFFFDx"');
  });

  it('parses the annotation as upstream (hex, unsigned)', () => {
    expect(parseContainerHash('156414b')).toBe(0x156414b);
    expect(parseContainerHash('0156414B')).toBe(0x156414b);
    expect(parseContainerHash('')).toBeUndefined();
    expect(parseContainerHash('xyz')).toBeUndefined();
    expect(parseContainerHash(undefined)).toBeUndefined();
  });
});

describe('a running container written by the upstream kubelet', () => {
  const image = 'localhost:5999/kubelet-ts/busybox:1.36';
  const spec: Container = { name: 'sidecar', image };
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: [spec], restartPolicy: 'Always' },
  };
  const running = (hash: string): PodRuntimeStatus => {
    const c: ContainerRuntimeStatus = {
      id: 'c1',
      name: 'sidecar',
      podSandboxId: 'sb1',
      state: 'running',
      createdAt: 1,
      startedAt: 1,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      image,
      imageRef: 'sha256:x',
      hash,
      restartCount: 0,
      logPath: '',
      terminationLogPath: '',
      labels: {},
      annotations: {},
    };
    return {
      uid: 'u1',
      name: 'p',
      namespace: 'ns',
      sandboxes: [
        {
          id: 'sb1',
          attempt: 0,
          ready: true,
          createdAt: 1,
          ips: ['10.88.0.2'],
          hostNetwork: false,
          labels: {},
          annotations: {},
        },
      ],
      containers: [c],
      ips: ['10.88.0.2'],
      observedAt: 2,
    };
  };
  const plan = (hash: string) =>
    computePodActions({ pod, runtime: running(hash), liveness: () => undefined, startup: () => undefined });

  it('is kept when its annotation is the upstream hash (any hex spelling)', () => {
    for (const h of ['156414b', '0156414b', '156414B']) {
      const a = plan(h);
      expect(a.containersToKill).toEqual([]);
      expect(a.containersToStart).toEqual([]);
      expect(a.killPod).toBe(false);
    }
  });

  it('is restarted when the image changed', () => {
    const a = plan(containerHash({ name: 'sidecar', image: 'busybox:other' }));
    expect(a.containersToKill.map((k) => k.message)).toEqual([
      'Container sidecar definition changed, will be restarted',
    ]);
    expect(a.containersToStart).toEqual(['sidecar']);
  });
});
