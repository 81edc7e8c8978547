import { describe, expect, it } from 'vitest';
import {
  containerResourceValue,
  findContainerInPod,
  ResourceFieldError,
  resourceValueByContainerName,
} from '../../../src/api/resources.js';
import type { Container, Pod } from '../../../src/api/types.js';

// Upstream pkg/api/v1/resource/helpers.go (v1.37.2): ExtractContainerResourceValue (divisor 0 → 1,
// ceiling of MilliValue/MilliValue for cpu, Value/Value otherwise), MergeContainerResourceLimits
// (unset or zero cpu/memory/ephemeral-storage limits take node allocatable; hugepages never),
// findContainerInPod (containers, then init containers). Values from the e2e specs
// test/e2e/common/storage/downwardapi_volume.go: 1250m → "2", 250m → "1", 32Mi → "33554432".

const c: Container = {
  name: 'client-container',
  resources: {
    requests: { cpu: '250m', memory: '32Mi', 'ephemeral-storage': '1Gi' },
    limits: { cpu: '1250m', memory: '128Mi', 'hugepages-2Mi': '4Mi' },
  },
};
const alloc = { cpuMillis: 2500, memoryBytes: 4 * 1024 ** 3, ephemeralBytes: 10 * 1000 ** 3 };

describe('containerResourceValue', () => {
  it.each([
    ['limits.cpu', undefined, '2'],
    ['requests.cpu', undefined, '1'],
    ['limits.memory', undefined, '134217728'],
    ['requests.memory', undefined, '33554432'],
    ['limits.cpu', '1m', '1250'],
    ['limits.cpu', '100m', '13'],
    ['limits.memory', '1Mi', '128'],
    ['limits.memory', '1M', '135'],
    ['requests.memory', '0', '33554432'],
    ['requests.ephemeral-storage', '1Mi', '1024'],
    ['limits.hugepages-2Mi', '1Mi', '4'],
    ['requests.hugepages-2Mi', undefined, '0'],
  ])('%s divisor %s → %s', (resource, divisor, want) => {
    expect(containerResourceValue(c, { resource, divisor }, alloc)).toBe(want);
  });

  it('unset or zero limits take node allocatable (cpu, memory, ephemeral-storage), requests do not', () => {
    const bare: Container = { name: 'b', resources: { limits: { cpu: '0' } } };
    expect(containerResourceValue(bare, { resource: 'limits.cpu' }, alloc)).toBe('3');
    expect(containerResourceValue(bare, { resource: 'limits.memory' }, alloc)).toBe(String(4 * 1024 ** 3));
    expect(containerResourceValue(bare, { resource: 'limits.ephemeral-storage' }, alloc)).toBe('10000000000');
    expect(containerResourceValue(bare, { resource: 'requests.cpu' }, alloc)).toBe('0');
    expect(containerResourceValue(bare, { resource: 'limits.hugepages-2Mi' }, alloc)).toBe('0');
    expect(containerResourceValue(bare, { resource: 'limits.cpu' })).toBe('0');
  });

  it('unsupported resources: upstream message', () => {
    expect(() => containerResourceValue(c, { resource: 'limits.nvidia.com/gpu' })).toThrow(
      new ResourceFieldError('unsupported container resource : limits.nvidia.com/gpu'),
    );
    expect(() => containerResourceValue(c, { resource: 'cpu' })).toThrow(
      'unsupported container resource : cpu',
    );
  });
});

describe('by container name', () => {
  const pod: Pod = {
    spec: {
      initContainers: [{ name: 'init', resources: { limits: { cpu: '500m' } } }, { name: 'only-init' }],
      containers: [c, { name: 'init', resources: { limits: { cpu: '3' } } }],
    },
  };
  it('regular containers first, then init containers; all get allocatable defaults', () => {
    expect(findContainerInPod(pod, 'init').resources?.limits?.cpu).toBe('3');
    expect(
      resourceValueByContainerName(pod, { containerName: 'only-init', resource: 'limits.cpu' }, alloc),
    ).toBe('3');
  });
  it('a missing container: upstream message', () => {
    expect(() =>
      resourceValueByContainerName(pod, { containerName: 'ghost', resource: 'limits.cpu' }, alloc),
    ).toThrow('container ghost not found');
  });
});
