import { describe, expect, it } from 'vitest';
import { FlagError } from '../../../src/config/errors.js';
import { klogVerbosityToLevel, parseFlags, usage } from '../../../src/config/flags.js';

function flagError(argv: string[]): string {
  try {
    parseFlags(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(FlagError);
    return (e as Error).message;
  }
  throw new Error('expected a FlagError');
}

describe('parseFlags', () => {
  it('has upstream defaults with no arguments', () => {
    expect(parseFlags([])).toEqual({
      help: false,
      version: false,
      config: undefined,
      kubeconfig: undefined,
      bootstrapKubeconfig: undefined,
      hostnameOverride: undefined,
      nodeIPs: [],
      rootDir: '/var/lib/kubelet',
      certDir: '/var/lib/kubelet/pki',
      criConcurrency: 4,
      logLevel: 'info',
      overrides: {},
      overriddenBy: {},
      warnings: [],
    });
  });

  it('accepts both --flag=value and --flag value', () => {
    const a = parseFlags(['--kubeconfig=/etc/k.conf', '--config', '/etc/c.yaml', '--root-dir=/tmp/kubelet']);
    expect(a.kubeconfig).toBe('/etc/k.conf');
    expect(a.config).toBe('/etc/c.yaml');
    expect(a.rootDir).toBe('/tmp/kubelet');
    // Upstream's default cert dir does not follow --root-dir.
    expect(a.certDir).toBe('/var/lib/kubelet/pki');
    expect(parseFlags(['--cert-dir', '/pki', '--root-dir', '/r']).certDir).toBe('/pki');
  });

  it('maps config-file flags to KubeletConfiguration overrides', () => {
    const f = parseFlags([
      '--container-runtime-endpoint=unix:///run/crio/crio.sock',
      '--pod-manifest-path',
      '/etc/kubernetes/manifests',
      '--register-node=false',
      '--node-labels=a=1,example.com/b=2',
      '--node-labels',
      'c=',
      '--max-pods=42',
      '--cluster-dns=10.96.0.10,fd00::a',
      '--cluster-domain=cluster.local',
      '--runtime-request-timeout=5m',
    ]);
    expect(f.overrides).toEqual({
      containerRuntimeEndpoint: 'unix:///run/crio/crio.sock',
      staticPodPath: '/etc/kubernetes/manifests',
      registerNode: false,
      nodeLabels: { a: '1', 'example.com/b': '2', c: '' },
      maxPods: 42,
      clusterDNS: ['10.96.0.10', 'fd00::a'],
      clusterDomain: 'cluster.local',
      runtimeRequestTimeout: '5m',
    });
    expect(f.overriddenBy.maxPods).toBe('--max-pods');
    expect(f.overriddenBy.staticPodPath).toBe('--pod-manifest-path');
  });

  it('treats a bare boolean flag as true and parses Go booleans', () => {
    expect(parseFlags(['--register-node']).overrides.registerNode).toBe(true);
    expect(parseFlags(['--register-node=F']).overrides.registerNode).toBe(false);
    expect(parseFlags(['--register-node=1']).overrides.registerNode).toBe(true);
    expect(flagError(['--register-node=nope'])).toBe('flag --register-node: invalid boolean "nope"');
  });

  it('lets the last occurrence of a scalar flag win and repeats accumulate for lists', () => {
    const f = parseFlags([
      '--max-pods=1',
      '--max-pods=2',
      '--cluster-dns=10.0.0.1',
      '--cluster-dns=10.0.0.2',
    ]);
    expect(f.overrides.maxPods).toBe(2);
    expect(f.overrides.clusterDNS).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it.each([
    [['--v=0'], 'info'],
    [['--v=1'], 'info'],
    [['--v', '2'], 'debug'],
    [['-v', '3'], 'debug'],
    [['-v=4'], 'trace'],
    [['-v6'], 'trace'],
    [['--log-level=warn'], 'warn'],
    [['--v=4', '--log-level=error'], 'error'],
  ])('%j → log level %s', (argv, level) => {
    expect(parseFlags(argv).logLevel).toBe(level);
  });

  it('maps klog verbosity', () => {
    expect([0, 1, 2, 3, 4, 10].map(klogVerbosityToLevel)).toEqual([
      'info',
      'info',
      'debug',
      'debug',
      'trace',
      'trace',
    ]);
  });

  it('parses --node-ip (one, or one per family)', () => {
    expect(parseFlags(['--node-ip=192.0.2.10']).nodeIPs).toEqual(['192.0.2.10']);
    expect(parseFlags(['--node-ip', '192.0.2.10,2001:db8::10']).nodeIPs).toEqual([
      '192.0.2.10',
      '2001:db8::10',
    ]);
    expect(flagError(['--node-ip=192.0.2.10,192.0.2.11'])).toContain('must be of different IP families');
    expect(flagError(['--node-ip=1.1.1.1,::1,2.2.2.2'])).toContain('at most two IPs');
    expect(flagError(['--node-ip=example.com'])).toBe('flag --node-ip: invalid IP address "example.com"');
  });

  it('recognizes --help/-h and --version', () => {
    expect(parseFlags(['--help']).help).toBe(true);
    expect(parseFlags(['-h']).help).toBe(true);
    expect(parseFlags(['--version']).version).toBe(true);
  });

  it.each([
    [['--foo'], 'unknown flag: --foo'],
    [['--foo=1'], 'unknown flag: --foo'],
    [['-x'], 'unknown flag: -x'],
    [['--max-pods=x'], 'flag --max-pods: invalid integer "x"'],
    [['--max-pods', '1.5'], 'flag --max-pods: invalid integer "1.5"'],
    [['--max-pods'], 'flag --max-pods: missing value'],
    [['--max-pods', '--register-node'], 'flag --max-pods: missing value'],
    [['--kubeconfig'], 'flag --kubeconfig: missing value'],
    [['--v=high'], 'flag --v: invalid integer "high"'],
    [['--v=-1'], 'flag --v: verbosity must not be negative, got -1'],
    [['--log-level=loud'], 'flag --log-level: invalid level "loud"'],
    [['--runtime-request-timeout=2'], 'flag --runtime-request-timeout: invalid duration "2"'],
    [['--node-labels=novalue'], 'flag --node-labels: malformed pair "novalue", expect key=value'],
    [['--node-labels==x'], 'flag --node-labels: malformed pair "=x", expect key=value'],
    [['stray'], 'unexpected argument "stray"'],
    [['--', 'stray'], 'unexpected argument "stray"'],
  ])('rejects %j', (argv, message) => {
    expect(flagError(argv)).toContain(message);
  });

  it('hints at --flag=false when a boolean flag is followed by a value', () => {
    expect(flagError(['--register-node', 'false'])).toBe(
      `unexpected argument "false" (boolean flags take their value with '=': --register-node=false)`,
    );
  });

  it('accepts negative numbers as values', () => {
    expect(parseFlags(['--max-pods', '-1']).overrides.maxPods).toBe(-1);
  });
});

describe('usage', () => {
  it('lists every flag', () => {
    const text = usage();
    for (const flag of [
      '--config <path>',
      '--kubeconfig <path>',
      '--bootstrap-kubeconfig',
      '--container-runtime-endpoint',
      '--hostname-override',
      '--node-ip',
      '--root-dir',
      '--pod-manifest-path',
      '--cert-dir',
      '-v, --v <int>',
      '--log-level',
      '--register-node',
      '--node-labels',
      '--max-pods',
      '--cluster-dns',
      '--cluster-domain',
      '--runtime-request-timeout',
      '-h, --help',
      '--version',
    ]) {
      expect(text).toContain(flag);
    }
    expect(text.startsWith('Usage: kubelet-ts [flags]')).toBe(true);
  });
});
