import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseKubeletConfigYaml } from '../../../src/config/parse.js';

const HEADER = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
const SRC = '/etc/kubernetes/kubelet.yaml';

function parse(body: string) {
  return parseKubeletConfigYaml(HEADER + body, SRC);
}

function parseError(text: string): ConfigError {
  try {
    parseKubeletConfigYaml(text, SRC);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseKubeletConfigYaml', () => {
  it('accepts a typical kubeadm-style config and keeps only present fields', () => {
    const { config, warnings } = parse(`
address: 0.0.0.0
port: 10250
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
    cacheTTL: 2m0s
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 5m
    cacheUnauthorizedTTL: 30s
cgroupDriver: systemd
clusterDNS:
  - 10.96.0.10
clusterDomain: cluster.local
evictionHard:
  memory.available: 200Mi
  nodefs.available: "10%"
kubeReserved:
  cpu: 1
  memory: 1.5Gi
maxPods: 110
registerWithTaints:
  - key: dedicated
    value: infra
    effect: NoSchedule
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
syncFrequency: 0s
`);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: '0.0.0.0',
      port: 10250,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true, cacheTTL: '2m0s' },
        x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
      },
      authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m', cacheUnauthorizedTTL: '30s' } },
      cgroupDriver: 'systemd',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      evictionHard: { 'memory.available': '200Mi', 'nodefs.available': '10%' },
      kubeReserved: { cpu: '1', memory: '1.5Gi' },
      maxPods: 110,
      registerWithTaints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
      rotateCertificates: true,
      staticPodPath: '/etc/kubernetes/manifests',
      syncFrequency: '0s',
    });
  });

  it('accepts JSON too (it is YAML)', () => {
    const { config } = parseKubeletConfigYaml(
      JSON.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        maxPods: 50,
      }),
      SRC,
    );
    expect(config.maxPods).toBe(50);
  });

  it('keeps numbers written into string fields exactly as written', () => {
    const { config } = parse('kubeReserved:\n  cpu: 1.0\nclusterDomain: 123\n');
    expect(config.kubeReserved).toEqual({ cpu: '1.0' });
    expect(config.clusterDomain).toBe('123');
  });

  it('treats null and empty values as unset', () => {
    const { config } = parse(
      'staticPodPath:\nevictionMinimumReclaim: null\nauthentication: ~\nclusterDNS:\n',
    );
    expect(config).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' });
  });

  it('warns once per unknown field path, with the line, and never fails for it', () => {
    const { config, warnings } = parse(`maxPods: 10
fooBar: 1
authentication:
  anonymous:
    enabled: true
    extra: x
  webhok: {}
`);
    expect(config.maxPods).toBe(10);
    expect(config.authentication).toEqual({ anonymous: { enabled: true } });
    expect(warnings).toEqual([
      `${SRC}:4: unknown field "fooBar"`,
      `${SRC}:8: unknown field "authentication.anonymous.extra"`,
      `${SRC}:9: unknown field "authentication.webhok"`,
    ]);
  });

  it('says when a field is upstream-only rather than unknown', () => {
    const { warnings } = parse('volumeStatsAggPeriod: 1m\nlogging:\n  verbosity: 0\n');
    expect(warnings).toEqual([
      `${SRC}:3: field "volumeStatsAggPeriod" is not supported by kubelet-ts and is ignored`,
      `${SRC}:4: field "logging" is not supported by kubelet-ts and is ignored`,
    ]);
  });

  it('requires kind and apiVersion', () => {
    const e = parseError('maxPods: 1\n');
    expect(e.issues.map((i) => i.path)).toEqual(['kind', 'apiVersion']);
    expect(e.message).toContain(`${SRC}: kind: must be "KubeletConfiguration" (got none)`);
    expect(e.message).toContain(`${SRC}: apiVersion: must be "kubelet.config.k8s.io/v1beta1" (got none)`);

    const wrong = parseError('apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n');
    expect(wrong.message).toBe(
      `${SRC}: apiVersion: must be "kubelet.config.k8s.io/v1beta1" (got "kubelet.config.k8s.io/v1alpha1")`,
    );
    expect(parseError('apiVersion: v1\nkind: Pod\n').issues).toHaveLength(2);
  });

  it('rejects empty, non-mapping and malformed documents', () => {
    expect(parseError('').message).toBe(
      `${SRC}: expected a KubeletConfiguration object, found an empty document`,
    );
    expect(parseError('- a\n- b\n').message).toContain('found a non-mapping value');
    const bad = parseError(`${HEADER}maxPods: [1\n`);
    expect(bad.message).toContain('invalid YAML');
    expect(bad.issues[0]?.line).toBeGreaterThan(0);
    expect(parseError(`${HEADER}maxPods: 1\nmaxPods: 2\n`).message).toContain('invalid YAML');
  });

  it.each([
    ['maxPods: abc', 'maxPods', 'abc', 'invalid integer "abc"'],
    ['maxPods: "110"', 'maxPods', '110', 'invalid integer "110"'],
    ['maxPods: 1.5', 'maxPods', '1.5', 'invalid integer "1.5"'],
    ['registerNode: yes', 'registerNode', 'yes', 'invalid boolean "yes"'],
    ['syncFrequency: 5x', 'syncFrequency', '5x', 'time: unknown unit "x" in duration "5x"'],
    ['syncFrequency: 60', 'syncFrequency', '60', 'time: missing unit in duration "60"'],
    [
      'authentication:\n  webhook:\n    cacheTTL: soon',
      'authentication.webhook.cacheTTL',
      'soon',
      'invalid duration',
    ],
    ['containerLogMaxSize: 10XB', 'containerLogMaxSize', '10XB', 'invalid quantity "10XB"'],
    [
      'evictionHard:\n  foo.available: "1"',
      'evictionHard[foo.available]',
      '1',
      'unsupported eviction signal foo.available',
    ],
    [
      'evictionHard:\n  memory.available: lots',
      'evictionHard[memory.available]',
      'lots',
      'invalid quantity "lots"',
    ],
    [
      'evictionHard:\n  memory.available: "-1Gi"',
      'evictionHard[memory.available]',
      '-1Gi',
      'eviction threshold memory.available must be positive: -1Gi',
    ],
    [
      'evictionSoft:\n  nodefs.available: 150%',
      'evictionSoft[nodefs.available]',
      '150%',
      'eviction percentage threshold nodefs.available must be <= 100%: 150%',
    ],
    [
      'evictionSoftGracePeriod:\n  memory.available: -1s',
      'evictionSoftGracePeriod[memory.available]',
      '-1s',
      'invalid eviction grace period specified: -1s, must be a positive value',
    ],
    [
      'evictionMinimumReclaim:\n  memory.available: "-1"',
      'evictionMinimumReclaim[memory.available]',
      '-1',
      'negative reclaim defined for signal memory.available',
    ],
    ['kubeReserved:\n  gpu: "1"', 'kubeReserved[gpu]', '1', 'cannot reserve "gpu" resource'],
    [
      'systemReserved:\n  memory: "-1Gi"',
      'systemReserved[memory]',
      '-1Gi',
      'resource quantity for "memory" cannot be negative: -1Gi',
    ],
    ['clusterDNS: 10.0.0.10', 'clusterDNS', '10.0.0.10', 'expected a list of strings'],
    ['authentication: true', 'authentication', true, 'expected an object'],
    ['clusterDomain: [a]', 'clusterDomain', ['a'], 'expected a string'],
  ])('reports %j as a ConfigError naming file, path and value', (body, path, value, message) => {
    const e = parseError(HEADER + body);
    expect(e.source).toBe(SRC);
    expect(e.issues).toHaveLength(1);
    expect(e.path).toBe(path);
    expect(e.value).toEqual(value);
    expect(e.issues[0]?.message).toContain(message);
    expect(e.message).toMatch(new RegExp(`^${SRC}:\\d+: ${path.replace(/[.[\]]/g, '\\$&')}: `));
  });

  it('reports the line of the offending value', () => {
    const e = parseError(`${HEADER}port: 10250\nmaxPods: abc\n`);
    expect(e.issues[0]?.line).toBe(4);
    expect(e.message).toBe(`${SRC}:4: maxPods: invalid integer "abc"`);
  });

  it('collects every type error at once', () => {
    const e = parseError(`${HEADER}maxPods: abc\nport: x\nsyncFrequency: never\n`);
    expect(e.issues.map((i) => i.path)).toEqual(['maxPods', 'port', 'syncFrequency']);
    expect(e.message).toMatch(/^3 configuration errors:\n {2}/);
  });

  it('validates taints', () => {
    const e = parseError(
      `${HEADER}registerWithTaints:\n  - key: a\n    effect: Sometimes\n  - effect: NoExecute\n`,
    );
    expect(e.issues.map((i) => i.path)).toEqual(['registerWithTaints[0]', 'registerWithTaints[1]']);
    expect(e.issues[0]?.message).toContain('effect must be one of NoSchedule, PreferNoSchedule, NoExecute');
    expect(e.issues[1]?.message).toContain('key is required');
    const timeAdded = parseError(
      `${HEADER}registerWithTaints:\n  - {key: a, effect: NoSchedule, timeAdded: x}\n`,
    );
    expect(timeAdded.issues[0]?.message).toContain('timeAdded must not be set');
  });

  it('resolves aliases', () => {
    const { config } = parse(
      'clusterDNS: &dns\n  - 10.0.0.10\nevictionHard: &hard\n  memory.available: 1Gi\nevictionSoft: *hard\n',
    );
    expect(config.evictionSoft).toEqual({ 'memory.available': '1Gi' });
  });
});
