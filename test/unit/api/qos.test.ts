import { describe, expect, it } from 'vitest';
import { podQOSClass, qosClass } from '../../../src/api/qos.js';
import type { Container, PodSpec } from '../../../src/api/types.js';
import { quantityNanos } from '../../../src/util/quantity.js';
import { pod } from '../status/fixtures.js';

const c = (name: string, resources?: Container['resources']): Container => ({ name, image: 'x', resources });
const both = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { cpu, memory } });

describe('qosClass', () => {
  it.each<[string, PodSpec, string]>([
    ['no resources', { containers: [c('a'), c('b')] }, 'BestEffort'],
    [
      'zero quantities do not count',
      { containers: [c('a', { requests: { cpu: '0', memory: '0' } })] },
      'BestEffort',
    ],
    [
      'only other resources',
      { containers: [c('a', { limits: { 'ephemeral-storage': '1Gi' } })] },
      'BestEffort',
    ],
    ['requests only', { containers: [c('a', { requests: { cpu: '100m' } })] }, 'Burstable'],
    [
      'requests equal limits',
      { containers: [c('a', both('1', '1Gi')), c('b', both('500m', '64Mi'))] },
      'Guaranteed',
    ],
    [
      'equal in value, different spelling',
      {
        containers: [
          c('a', { requests: { cpu: '1000m', memory: '1073741824' }, limits: { cpu: '1', memory: '1Gi' } }),
        ],
      },
      'Guaranteed',
    ],
    [
      'requests below limits',
      {
        containers: [c('a', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } })],
      },
      'Burstable',
    ],
    ['one container without limits', { containers: [c('a', both('1', '1Gi')), c('b')] }, 'Burstable'],
    [
      'cpu limit only',
      { containers: [c('a', { requests: { cpu: '1' }, limits: { cpu: '1' } })] },
      'Burstable',
    ],
    [
      'limits without requests (before defaulting)',
      { containers: [c('a', { limits: { cpu: '1', memory: '1Gi' } })] },
      'Burstable',
    ],
    [
      'init containers count',
      { containers: [c('a', both('1', '1Gi'))], initContainers: [c('i', { requests: { cpu: '1' } })] },
      'Burstable',
    ],
    [
      'guaranteed init container too',
      { containers: [c('a', both('1', '1Gi'))], initContainers: [c('i', both('2', '2Gi'))] },
      'Guaranteed',
    ],
    ['pod-level resources decide', { containers: [c('a')], resources: both('1', '1Gi') }, 'Guaranteed'],
    [
      'pod-level requests only',
      { containers: [c('a', both('1', '1Gi'))], resources: { requests: { cpu: '1' } } },
      'Burstable',
    ],
  ])('%s → %s', (_, spec, want) => {
    expect(qosClass(spec)).toBe(want);
  });

  it('prefers the class the apiserver recorded', () => {
    expect(podQOSClass(pod({}, { status: { qosClass: 'Guaranteed' } }))).toBe('Guaranteed');
    expect(podQOSClass(pod({}, { status: {} }))).toBe('BestEffort');
  });
});

describe('quantityNanos', () => {
  it.each<[string, bigint | undefined]>([
    ['1', 1_000_000_000n],
    ['100m', 100_000_000n],
    ['0.5', 500_000_000n],
    ['1Ki', 1024n * 1_000_000_000n],
    ['1.5Gi', 1610612736n * 1_000_000_000n],
    ['2k', 2000n * 1_000_000_000n],
    ['1e3', 1000n * 1_000_000_000n],
    ['1E-3', 1_000_000n],
    ['5n', 5n],
    ['1.5n', 2n],
    ['-1', -1_000_000_000n],
    ['abc', undefined],
    ['1Qi', undefined],
  ])('%s', (q, want) => {
    expect(quantityNanos(q)).toBe(want);
  });
});
