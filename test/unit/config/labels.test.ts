import { describe, expect, it } from 'vitest';
import { isKubeletLabel, nodeLabelErrors } from '../../../src/config/labels.js';

describe('node labels', () => {
  it.each([
    ['kubernetes.io/hostname', true],
    ['node.kubernetes.io/instance-type', true],
    ['topology.kubernetes.io/zone', true],
    ['node.kubernetes.io/exclude-from-external-load-balancers', true],
    ['role.kubelet.kubernetes.io/worker', true],
    ['foo.node.kubernetes.io/bar', true],
    ['node-role.kubernetes.io/worker', false],
    ['kubernetes.io/role', false],
    ['example.com/team', false],
  ])('isKubeletLabel(%s) = %s', (key, expected) => {
    expect(isKubeletLabel(key)).toBe(expected);
  });

  it('accepts ordinary and allowed kubernetes.io labels', () => {
    expect(
      nodeLabelErrors({ team: 'a', 'example.com/tier': 'gold', 'node.kubernetes.io/pool': 'x', empty: '' }),
    ).toEqual([]);
  });

  it('rejects labels NodeRestriction would refuse, listing them once', () => {
    const errors = nodeLabelErrors({ 'node-role.kubernetes.io/worker': '', 'x.k8s.io/y': 'z', ok: '1' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [node-role.kubernetes.io/worker x.k8s.io/y]",
    );
  });

  it('rejects malformed keys and values', () => {
    expect(nodeLabelErrors({ 'Bad_Prefix/name': 'v' })[0]).toContain('prefix must be a DNS-1123 subdomain');
    expect(nodeLabelErrors({ '-dash': 'v' })[0]).toContain('invalid label key "-dash"');
    expect(nodeLabelErrors({ [`a${'b'.repeat(63)}`]: 'v' })[0]).toContain('63 characters or less');
    expect(nodeLabelErrors({ k: 'has space' })[0]).toBe('invalid label value "has space" for key "k"');
    expect(nodeLabelErrors({ k: 'x'.repeat(64) })).toHaveLength(1);
  });
});
