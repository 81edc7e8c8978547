import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret, Service } from '../../../src/api/types.js';
import {
  buildEnv,
  type EnvContext,
  type EnvLookup,
  serviceEnv,
  servicesForPod,
} from '../../../src/sync/env.js';
import { SyncError } from '../../../src/sync/errors.js';

// buildEnv/serviceEnv against upstream makeEnvironmentVariables, podFieldSelectorRuntimeValue,
// containerResourceRuntimeValue and envvars.FromServices (v1.37.2).

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function objects(cms: ConfigMap[] = [], secrets: Secret[] = [], services?: Service[]) {
  const reads: string[] = [];
  const lookup: EnvLookup = {
    configMap: async (ns, name) => {
      reads.push(`configmap ${ns}/${name}`);
      return cms.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name);
    },
    secret: async (ns, name) => {
      reads.push(`secret ${ns}/${name}`);
      return secrets.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name);
    },
  };
  if (services) lookup.services = async () => services;
  return { lookup, reads };
}

const cm = (name: string, data: Record<string, string>, binaryData?: Record<string, string>): ConfigMap => ({
  metadata: { name, namespace: 'ns1' },
  data,
  ...(binaryData ? { binaryData } : {}),
});
const secret = (name: string, data: Record<string, string>): Secret => ({
  metadata: { name, namespace: 'ns1' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const svc = (
  ns: string,
  name: string,
  clusterIP: string,
  ports: Service['spec'] extends infer S ? (S extends { ports?: infer P } ? P : never) : never,
): Service => ({
  metadata: { name, namespace: ns },
  spec: { clusterIP, ports },
});

function pod(
  spec: Partial<NonNullable<Pod['spec']>> = {},
  meta: Partial<NonNullable<Pod['metadata']>> = {},
): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns1', uid: 'uid-1', ...meta },
    spec: { nodeName: 'node-a', serviceAccountName: 'sa1', containers: [{ name: 'c' }], ...spec },
  };
}

function ctx(p: Pod, lookup: EnvLookup, extra: Partial<EnvContext> = {}): EnvContext {
  return {
    pod: p,
    nodeName: 'node-a',
    hostIPs: ['192.168.1.5', 'fd00::5'],
    podIPs: ['10.244.0.7', 'fd00:10::7'],
    lookup,
    allocatable: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 },
    ...extra,
  };
}

async function envOf(c: Container, p: Pod, lookup: EnvLookup, extra: Partial<EnvContext> = {}) {
  return Object.fromEntries(await buildEnv(c, ctx(p, lookup, extra)));
}

async function configError(c: Container, p: Pod, lookup: EnvLookup): Promise<SyncError> {
  const err = await buildEnv(c, ctx(p, lookup)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).reason).toBe('CreateContainerConfigError');
  return err as SyncError;
}

describe('buildEnv: envFrom, env order and precedence', () => {
  it('applies envFrom first (in order, with prefix), then env in order; later wins', async () => {
    const { lookup } = objects(
      [cm('cm1', { A: 'cm-a', B: 'cm-b', SHARED: 'from-cm' })],
      [secret('s1', { SHARED: 'from-secret', TOKEN: 'sêcret' })],
    );
    const c: Container = {
      name: 'c',
      envFrom: [
        { configMapRef: { name: 'cm1' } },
        { secretRef: { name: 's1' } },
        { prefix: 'P_', configMapRef: { name: 'cm1' } },
      ],
      env: [
        { name: 'B', value: 'env-b' },
        { name: 'X', value: '$(A)+$(SHARED)' },
        { name: 'X', value: 'second-$(X)' },
      ],
    };
    const env = await envOf(c, pod(), lookup);
    expect(env).toEqual({
      A: 'cm-a',
      B: 'env-b',
      SHARED: 'from-secret',
      TOKEN: 'sêcret',
      P_A: 'cm-a',
      P_B: 'cm-b',
      P_SHARED: 'from-cm',
      X: 'second-cm-a+from-secret',
    });
  });

  it('expands only against variables defined before, then service variables; undefined stay literal', async () => {
    const { lookup } = objects([], [], [svc('ns1', 'db', '10.96.0.20', [{ port: 5432, protocol: 'TCP' }])]);
    const c: Container = {
      name: 'c',
      env: [
        { name: 'EARLY', value: '$(LATE)|$(DB_SERVICE_HOST)|$$(DB_SERVICE_HOST)|$(NOPE)' },
        { name: 'LATE', value: 'late' },
        { name: 'DB_SERVICE_PORT', value: 'mine' },
      ],
    };
    const env = await envOf(c, pod(), lookup);
    expect(env.EARLY).toBe('$(LATE)|10.96.0.20|$(DB_SERVICE_HOST)|$(NOPE)');
    // A declared variable wins over the service variable of the same name.
    expect(env.DB_SERVICE_PORT).toBe('mine');
    expect(env.DB_SERVICE_HOST).toBe('10.96.0.20');
  });

  it('puts declared variables first, then the remaining service variables', async () => {
    const { lookup } = objects(
      [],
      [],
      [svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }])],
    );
    const keys = Object.keys(await envOf({ name: 'c', env: [{ name: 'Z', value: 'z' }] }, pod(), lookup));
    expect(keys[0]).toBe('Z');
    expect(keys).toContain('KUBERNETES_SERVICE_HOST');
  });

  it('an env var with an empty value is set to ""', async () => {
    const { lookup } = objects();
    expect(await envOf({ name: 'c', env: [{ name: 'E' }, { name: 'F', value: '' }] }, pod(), lookup)).toEqual(
      {
        E: '',
        F: '',
      },
    );
  });

  it('reads each referenced object once per container', async () => {
    const { lookup, reads } = objects([cm('cm1', { A: '1', B: '2' })], [secret('s1', { K: 'v' })]);
    await envOf(
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'cm1' } }],
        env: [
          { name: 'A2', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'A' } } },
          { name: 'B2', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'B' } } },
          { name: 'K1', valueFrom: { secretKeyRef: { name: 's1', key: 'K' } } },
          { name: 'K2', valueFrom: { secretKeyRef: { name: 's1', key: 'K' } } },
        ],
      },
      pod(),
      lookup,
    );
    expect(reads).toEqual(['configmap ns1/cm1', 'secret ns1/s1']);
  });
});

describe('buildEnv: configMap and secret references', () => {
  const { lookup } = objects(
    [cm('cm1', { key1: 'v1' }, { bin: b64('binary') })],
    [secret('s1', { user: 'admin', 'pass-word': 'p@ss\nline2' })],
  );

  it('resolves configMapKeyRef and secretKeyRef (secret values base64-decoded)', async () => {
    const env = await envOf(
      {
        name: 'c',
        env: [
          { name: 'K1', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'key1' } } },
          { name: 'U', valueFrom: { secretKeyRef: { name: 's1', key: 'user' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 's1', key: 'pass-word' } } },
        ],
      },
      pod(),
      lookup,
    );
    expect(env).toEqual({ K1: 'v1', U: 'admin', PW: 'p@ss\nline2' });
  });

  it('skips optional missing objects and keys (an earlier value survives)', async () => {
    const env = await envOf(
      {
        name: 'c',
        envFrom: [
          { configMapRef: { name: 'nope', optional: true } },
          { secretRef: { name: 'nope', optional: true } },
          { configMapRef: { name: 'cm1' } },
        ],
        env: [
          { name: 'key1', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'missing', optional: true } } },
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
          { name: 'C', valueFrom: { secretKeyRef: { name: 's1', key: 'missing', optional: true } } },
        ],
      },
      pod(),
      lookup,
    );
    expect(env).toEqual({ key1: 'v1' });
  });

  it.each([
    [{ envFrom: [{ configMapRef: { name: 'nope' } }] }, 'configmap "nope" not found'],
    [{ envFrom: [{ secretRef: { name: 'nope', optional: false } }] }, 'secret "nope" not found'],
    [
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] },
      'configmap "nope" not found',
    ],
    [
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'k' } } }] },
      "couldn't find key k in ConfigMap ns1/cm1",
    ],
    [
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
      'secret "nope" not found',
    ],
    [
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } }] },
      "couldn't find key k in Secret ns1/s1",
    ],
    // Upstream reads configMapKeyRef from `data` only.
    [
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'bin' } } }] },
      "couldn't find key bin in ConfigMap ns1/cm1",
    ],
  ] as [Partial<Container>, string][])(
    'non-optional reference → CreateContainerConfigError %#',
    async (c, message) => {
      expect((await configError({ name: 'c', ...c }, pod(), lookup)).message).toBe(message);
    },
  );

  it('envFrom takes `data` only (binaryData keys are not variables)', async () => {
    expect(await envOf({ name: 'c', envFrom: [{ configMapRef: { name: 'cm1' } }] }, pod(), lookup)).toEqual({
      key1: 'v1',
    });
  });

  it('reads objects in the pod namespace', async () => {
    const other = objects([{ metadata: { name: 'cm1', namespace: 'other' }, data: { A: 'x' } }]);
    const err = await configError(
      { name: 'c', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'A' } } }] },
      pod(),
      other.lookup,
    );
    expect(err.message).toBe('configmap "cm1" not found');
  });
});

describe('buildEnv: fieldRef', () => {
  const p = pod(
    { nodeName: 'node-7', serviceAccountName: 'builder' },
    {
      name: 'web-0',
      namespace: 'ns1',
      uid: '1234-abcd',
      labels: { app: 'web', 'example.com/tier': 'front' },
      annotations: { note: 'a "quoted" value' },
    },
  );
  it.each([
    ['metadata.name', 'web-0'],
    ['metadata.namespace', 'ns1'],
    ['metadata.uid', '1234-abcd'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['example.com/tier']", 'front'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['note']", 'a "quoted" value'],
    ['spec.nodeName', 'node-7'],
    ['spec.serviceAccountName', 'builder'],
    ['status.hostIP', '192.168.1.5'],
    ['status.hostIPs', '192.168.1.5,fd00::5'],
    ['status.podIP', '10.244.0.7'],
    ['status.podIPs', '10.244.0.7,fd00:10::7'],
  ])('%s → %j', async (fieldPath, want) => {
    const env = await envOf(
      { name: 'c', env: [{ name: 'V', valueFrom: { fieldRef: { fieldPath } } }] },
      p,
      objects().lookup,
    );
    expect(env.V).toBe(want);
  });

  it('an unsupported path is a CreateContainerConfigError', async () => {
    const err = await configError(
      { name: 'c', env: [{ name: 'V', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] },
      p,
      objects().lookup,
    );
    expect(err.message).toContain('spec.nope');
  });
});

describe('buildEnv: resourceFieldRef', () => {
  const c: Container = {
    name: 'main',
    resources: {
      requests: { cpu: '250m', memory: '64Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '2.007', memory: '128Mi', 'hugepages-2Mi': '4Mi' },
    },
  };
  const p = pod({
    containers: [c, { name: 'side', resources: { limits: { cpu: '500m' } } }],
    initContainers: [{ name: 'init', resources: { requests: { cpu: '100m' } } }],
  });
  const value = async (ref: { resource: string; divisor?: string; containerName?: string }, self = c) =>
    (
      await envOf(
        { ...self, env: [{ name: 'V', valueFrom: { resourceFieldRef: ref } }] },
        p,
        objects().lookup,
      )
    ).V;

  it.each([
    [{ resource: 'requests.cpu' }, '1'],
    [{ resource: 'requests.cpu', divisor: '1m' }, '250'],
    [{ resource: 'requests.cpu', divisor: '0' }, '1'],
    [{ resource: 'limits.cpu', divisor: '1m' }, '2007'],
    [{ resource: 'limits.cpu' }, '3'],
    [{ resource: 'requests.memory' }, String(64 * 1024 ** 2)],
    [{ resource: 'requests.memory', divisor: '1Mi' }, '64'],
    [{ resource: 'limits.memory', divisor: '1M' }, '135'],
    [{ resource: 'limits.memory', divisor: '1Gi' }, '1'],
    [{ resource: 'requests.ephemeral-storage', divisor: '1Mi' }, '1024'],
    [{ resource: 'limits.hugepages-2Mi', divisor: '1Mi' }, '4'],
    [{ resource: 'requests.hugepages-2Mi' }, '0'],
  ])('%j → %s (rounded up in divisor units)', async (ref, want) => {
    expect(await value(ref)).toBe(want);
  });

  it('limits not set default to node allocatable; requests not set are 0', async () => {
    expect(await value({ resource: 'limits.ephemeral-storage', divisor: '1Gi' })).toBe('100');
    const bare: Container = { name: 'bare' };
    expect(await value({ resource: 'limits.cpu' }, bare)).toBe('4');
    expect(await value({ resource: 'limits.memory', divisor: '1Mi' }, bare)).toBe('8192');
    expect(await value({ resource: 'requests.memory' }, bare)).toBe('0');
    const zero: Container = { name: 'zero', resources: { limits: { cpu: '0' } } };
    expect(await value({ resource: 'limits.cpu', divisor: '1m' }, zero)).toBe('4000');
  });

  it('containerName reads another container; only regular containers get allocatable defaults', async () => {
    expect(await value({ resource: 'limits.cpu', divisor: '1m', containerName: 'side' })).toBe('500');
    expect(await value({ resource: 'limits.memory', divisor: '1Gi', containerName: 'side' })).toBe('8');
    expect(await value({ resource: 'requests.cpu', divisor: '1m', containerName: 'init' })).toBe('100');
    expect(await value({ resource: 'limits.cpu', containerName: 'init' })).toBe('0');
  });

  it('unknown container or resource → CreateContainerConfigError with the upstream text', async () => {
    const run = (ref: { resource: string; containerName?: string }) =>
      configError({ ...c, env: [{ name: 'V', valueFrom: { resourceFieldRef: ref } }] }, p, objects().lookup);
    expect((await run({ resource: 'limits.cpu', containerName: 'ghost' })).message).toBe(
      'container ghost not found',
    );
    expect((await run({ resource: 'limits.gpu' })).message).toBe(
      'unsupported container resource : limits.gpu',
    );
    expect((await run({ resource: 'cpu' })).message).toBe('unsupported container resource : cpu');
  });
});

describe('service-link variables', () => {
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('default', 'default-only', '10.96.0.2', [{ port: 80 }]),
    svc('ns1', 'my-db', '10.96.0.30', [
      { name: 'sql', port: 5432, protocol: 'TCP' },
      { name: 'metrics-port', port: 9187, protocol: 'UDP' },
    ]),
    svc('ns1', 'headless', 'None', [{ port: 1 }]),
    svc('ns1', 'no-ip', '', [{ port: 1 }]),
    svc('ns1', 'v6', 'fd00::10', [{ port: 8080, protocol: 'SCTP' }]),
    svc('other', 'elsewhere', '10.96.0.40', [{ port: 80 }]),
  ];

  it('kubernetes service always, namespace services only with enableServiceLinks', async () => {
    const { lookup } = objects([], [], services);
    const on = await envOf({ name: 'c' }, pod(), lookup);
    expect(on).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.96.0.1', MY_DB_SERVICE_HOST: '10.96.0.30' });
    expect(
      Object.keys(on).filter(
        (k) =>
          k.startsWith('DEFAULT_ONLY') ||
          k.startsWith('ELSEWHERE') ||
          k.startsWith('HEADLESS') ||
          k.startsWith('NO_IP'),
      ),
    ).toEqual([]);
    const off = await envOf({ name: 'c' }, pod({ enableServiceLinks: false }), lookup);
    expect(Object.keys(off).sort()).toEqual([...serviceEnv([services[0]!]).keys()].sort());
  });

  it('a pod in default sees every default service with links on', async () => {
    const { lookup } = objects([], [], services);
    const env = await envOf({ name: 'c' }, pod({}, { namespace: 'default' }), lookup);
    expect(env.DEFAULT_ONLY_SERVICE_HOST).toBe('10.96.0.2');
    expect(env.MY_DB_SERVICE_HOST).toBeUndefined();
  });

  it('names upper-cased with - → _, every variable as upstream FromServices', () => {
    expect(Object.fromEntries(serviceEnv([services[2]!]))).toEqual({
      MY_DB_SERVICE_HOST: '10.96.0.30',
      MY_DB_SERVICE_PORT: '5432',
      MY_DB_SERVICE_PORT_SQL: '5432',
      MY_DB_SERVICE_PORT_METRICS_PORT: '9187',
      MY_DB_PORT: 'tcp://10.96.0.30:5432',
      MY_DB_PORT_5432_TCP: 'tcp://10.96.0.30:5432',
      MY_DB_PORT_5432_TCP_PROTO: 'tcp',
      MY_DB_PORT_5432_TCP_PORT: '5432',
      MY_DB_PORT_5432_TCP_ADDR: '10.96.0.30',
      MY_DB_PORT_9187_UDP: 'udp://10.96.0.30:9187',
      MY_DB_PORT_9187_UDP_PROTO: 'udp',
      MY_DB_PORT_9187_UDP_PORT: '9187',
      MY_DB_PORT_9187_UDP_ADDR: '10.96.0.30',
    });
  });

  it('IPv6 cluster IPs are bracketed in URLs only; protocol defaults to TCP', () => {
    expect(Object.fromEntries(serviceEnv([services[5]!, services[1]!]))).toMatchObject({
      V6_SERVICE_HOST: 'fd00::10',
      V6_PORT: 'sctp://[fd00::10]:8080',
      V6_PORT_8080_SCTP: 'sctp://[fd00::10]:8080',
      V6_PORT_8080_SCTP_ADDR: 'fd00::10',
      DEFAULT_ONLY_PORT: 'tcp://10.96.0.2:80',
      DEFAULT_ONLY_PORT_80_TCP_PROTO: 'tcp',
    });
  });

  it("a namespace's own service wins over the master service of the same name", () => {
    const mine = svc('ns1', 'kubernetes', '10.96.5.5', [{ port: 8443 }]);
    expect(servicesForPod([mine, services[0]!], 'ns1', true)).toEqual([mine]);
    expect(servicesForPod([services[0]!, mine], 'ns1', true)).toEqual([mine]);
    expect(servicesForPod([services[0]!, mine], 'ns1', false)).toEqual([services[0]]);
  });

  it('without a service source no service variables are added', async () => {
    expect(await envOf({ name: 'c' }, pod(), objects().lookup)).toEqual({});
  });

  // upstream makeEnvironmentVariables: "services have not yet been read at least once"
  it('a non-static pod waits until the services were read once; a static pod does not', async () => {
    const { lookup } = objects();
    lookup.services = async () => undefined;
    const err = await configError({ name: 'c' }, pod(), lookup);
    expect(err.reason).toBe('CreateContainerConfigError');
    expect(err.message).toBe('services have not yet been read at least once, cannot construct envvars');
    const staticPod = pod({}, { annotations: { 'kubernetes.io/config.source': 'file' } });
    expect(await envOf({ name: 'c' }, staticPod, lookup)).toEqual({});
  });

  // e2e "Pods should contain environment variables for services" (fooservice, port 8765)
  it('the e2e fooservice variables', async () => {
    const foo = svc('ns1', 'fooservice', '10.96.0.99', [{ port: 8765, protocol: 'TCP' }]);
    const { lookup } = objects([], [], [services[0]!, foo]);
    expect(await envOf({ name: 'c' }, pod(), lookup)).toMatchObject({
      FOOSERVICE_SERVICE_HOST: '10.96.0.99',
      FOOSERVICE_SERVICE_PORT: '8765',
      FOOSERVICE_PORT: 'tcp://10.96.0.99:8765',
      FOOSERVICE_PORT_8765_TCP_PORT: '8765',
      FOOSERVICE_PORT_8765_TCP_PROTO: 'tcp',
      FOOSERVICE_PORT_8765_TCP: 'tcp://10.96.0.99:8765',
      FOOSERVICE_PORT_8765_TCP_ADDR: '10.96.0.99',
    });
  });
});
