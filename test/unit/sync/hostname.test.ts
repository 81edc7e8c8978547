import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { SyncError } from '../../../src/sync/errors.js';
import {
  generatePodHostNameAndDomain,
  getNodenameForKernel,
  isDNS1123Label,
  isDNS1123Subdomain,
} from '../../../src/sync/hostname.js';

// Cases from upstream kubelet_pods_test.go TestGeneratePodHostNameAndDomain and
// pkg/kubelet/util/util_test.go TestGetNodenameForKernel; the e2e pod_hostnameoverride.go specs.

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name, namespace: 'default' }, spec: { containers: [], ...spec } };
}
const gen = (p: Pod) => generatePodHostNameAndDomain(p, 'cluster.local');

describe('generatePodHostNameAndDomain', () => {
  it('pod name, spec.hostname, subdomain', () => {
    expect(gen(pod('test-pod'))).toEqual({ hostname: 'test-pod', hostDomain: '' });
    expect(gen(pod('test-pod', { hostname: 'custom-hostname' }))).toEqual({
      hostname: 'custom-hostname',
      hostDomain: '',
    });
    expect(gen(pod('test-pod', { subdomain: 'my-subdomain' }))).toEqual({
      hostname: 'test-pod',
      hostDomain: 'my-subdomain.default.svc.cluster.local',
    });
    expect(gen(pod('test-pod', { hostname: 'custom-hostname', subdomain: 'my-subdomain' }))).toEqual({
      hostname: 'custom-hostname',
      hostDomain: 'my-subdomain.default.svc.cluster.local',
    });
  });

  it('hostnameOverride wins over hostname and subdomain, without a domain', () => {
    expect(
      gen(
        pod('test-pod', {
          hostname: 'custom-hostname',
          subdomain: 'my-subdomain',
          hostnameOverride: 'override-hostname',
        }),
      ),
    ).toEqual({ hostname: 'override-hostname', hostDomain: '' });
    expect(gen(pod('test-pod', { hostnameOverride: 'valid.hostname' }))).toEqual({
      hostname: 'valid.hostname',
      hostDomain: '',
    });
    expect(gen(pod('x', { hostnameOverride: 'override.example.host' })).hostname).toBe(
      'override.example.host',
    );
  });

  it('a pod name longer than 63 chars is cut', () => {
    expect(gen(pod('a'.repeat(65))).hostname).toBe('a'.repeat(63));
  });

  it('invalid values fail with upstream messages (CreatePodSandboxError)', () => {
    const err = (p: Pod) => {
      try {
        gen(p);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e1 = err(pod('test-pod', { hostname: 'custom-hostname', hostnameOverride: 'Invalid-Hostname-!' }));
    expect(e1).toBeInstanceOf(SyncError);
    expect((e1 as SyncError).reason).toBe('CreatePodSandboxError');
    expect((e1 as SyncError).message).toContain(
      'pod HostnameOverride "Invalid-Hostname-!" is not a valid DNS subdomain',
    );
    expect((err(pod('test-pod', { hostname: 'Invalid-Hostname-!' })) as Error).message).toContain(
      'pod Hostname "Invalid-Hostname-!" is not a valid DNS label',
    );
    expect((err(pod('test-pod', { subdomain: 'invalid_subdomain' })) as Error).message).toContain(
      'pod Subdomain "invalid_subdomain" is not a valid DNS label',
    );
    expect((err(pod('test-pod', { hostname: 'a'.repeat(64) })) as Error).message).toContain(
      'must be no more than 63 characters',
    );
  });
});

describe('DNS-1123 validation messages', () => {
  it('label and subdomain', () => {
    expect(isDNS1123Label('my-name')).toEqual([]);
    expect(isDNS1123Label('a.b')).toEqual(['must not contain dots']);
    expect(isDNS1123Label('A')).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(isDNS1123Subdomain('example.com')).toEqual([]);
    expect(isDNS1123Subdomain('Not-RFC1123')).toEqual([
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
  });
});

describe('getNodenameForKernel', () => {
  it('the FQDN only with setHostnameAsFQDN and a domain', () => {
    expect(getNodenameForKernel('test.pod.hostname', '', false)).toBe('test.pod.hostname');
    expect(getNodenameForKernel('test.pod.hostname', '', true)).toBe('test.pod.hostname');
    expect(getNodenameForKernel('test.pod.hostname', 'svc.subdomain.local', false)).toBe('test.pod.hostname');
    expect(getNodenameForKernel('test.pod.hostname', 'svc.subdomain.local', true)).toBe(
      'test.pod.hostname.svc.subdomain.local',
    );
    expect(getNodenameForKernel('test.pod.hostname', 'svc.subdomain.local', undefined)).toBe(
      'test.pod.hostname',
    );
  });

  it('an FQDN over 64 chars fails only when it would be used', () => {
    const domain = '1234567.1234567.1234567.1234567.1234567.1234567.1234567';
    expect(getNodenameForKernel('1234567.1234567', domain, false)).toBe('1234567.1234567');
    expect(() => getNodenameForKernel('1234567.1234567', domain, true)).toThrow(
      'failed to construct FQDN from pod hostname and cluster domain, FQDN 1234567.1234567.1234567.1234567.1234567.1234567.1234567.1234567.1234567 is too long (64 characters is the max, 71 characters requested)',
    );
  });
});
