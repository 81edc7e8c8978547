import { describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret } from '../../../src/api/types.js';
import {
  fieldPathValue,
  fsUserFrom,
  goQuote,
  type VolumeLookup,
  volumeFiles,
} from '../../../src/volumes/projections.js';

// The payloads of configMap/secret/downwardAPI/projected volumes, against upstream
// configmap.MakePayload, secret.MakePayload, downwardapi.CollectData, projected collectData and
// fieldpath.FormatMap (v1.37.2).

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

const pod: Pod = {
  metadata: {
    name: 'p',
    namespace: 'ns1',
    uid: 'uid-1',
    labels: { tier: 'front', app: 'web', 'example.com/z': 'last' },
    annotations: { note: 'say "hi"\n\ttab', b: 'ü€', c: '\u0007\u007f\u00a0' },
  },
  spec: { serviceAccountName: 'builder', containers: [{ name: 'c' }] },
};

const cms: ConfigMap[] = [
  {
    metadata: { name: 'cm1', namespace: 'ns1' },
    data: { 'app.conf': 'x=1\n', other: 'o' },
    binaryData: { 'blob.bin': b64(Buffer.from([0, 1, 2, 255])) },
  },
];
const secrets: Secret[] = [
  { metadata: { name: 's1', namespace: 'ns1' }, data: { user: b64('admin'), pass: b64('p4ss') } },
];

const tokens: string[] = [];
const lookup: VolumeLookup = {
  configMap: async (ns, name) => cms.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
  secret: async (ns, name) => secrets.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
  token: async (p, sa, audience, exp) => {
    tokens.push(`${p.metadata?.name} ${sa} ${audience ?? '-'} ${exp}`);
    return `token-for-${sa}`;
  },
};

async function payload(vol: Omit<Volume, 'name'>): Promise<Record<string, [string, string]>> {
  const files = await volumeFiles(pod, { name: 'v', ...vol } as Volume, lookup);
  return Object.fromEntries(
    [...files].map(([p, f]) => [p, [f.data.toString('latin1'), `0${f.mode.toString(8)}`]] as const),
  );
}
const failure = (vol: Omit<Volume, 'name'>) => volumeFiles(pod, { name: 'v', ...vol } as Volume, lookup);

describe('configMap volume', () => {
  it('every key of data and binaryData with defaultMode 0644', async () => {
    expect(await payload({ configMap: { name: 'cm1' } })).toEqual({
      'app.conf': ['x=1\n', '0644'],
      other: ['o', '0644'],
      'blob.bin': ['\u0000\u0001\u0002\u00ff', '0644'],
    });
  });

  it('items: only the listed keys at their paths, item mode over defaultMode', async () => {
    expect(
      await payload({
        configMap: {
          name: 'cm1',
          defaultMode: 0o600,
          items: [
            { key: 'app.conf', path: 'conf/app.conf' },
            { key: 'blob.bin', path: 'bin', mode: 0o755 },
          ],
        },
      }),
    ).toEqual({ 'conf/app.conf': ['x=1\n', '0600'], bin: ['\u0000\u0001\u0002\u00ff', '0755'] });
  });

  it('a missing key: error, or skipped when optional', async () => {
    await expect(
      failure({ configMap: { name: 'cm1', items: [{ key: 'nope', path: 'x' }] } }),
    ).rejects.toThrow('configmap references non-existent config key: nope');
    expect(
      await payload({
        configMap: {
          name: 'cm1',
          optional: true,
          items: [
            { key: 'nope', path: 'x' },
            { key: 'other', path: 'o' },
          ],
        },
      }),
    ).toEqual({ o: ['o', '0644'] });
  });

  it('a missing configMap: error, or an empty volume when optional', async () => {
    await expect(failure({ configMap: { name: 'ghost' } })).rejects.toThrow('configmap "ghost" not found');
    expect(await payload({ configMap: { name: 'ghost', optional: true } })).toEqual({});
  });
});

describe('secret volume', () => {
  it('decoded data, defaultMode and item modes', async () => {
    expect(await payload({ secret: { secretName: 's1' } })).toEqual({
      user: ['admin', '0644'],
      pass: ['p4ss', '0644'],
    });
    expect(
      await payload({
        secret: {
          secretName: 's1',
          defaultMode: 0o400,
          items: [
            { key: 'pass', path: 'creds/pw', mode: 0o440 },
            { key: 'user', path: 'u' },
          ],
        },
      }),
    ).toEqual({ 'creds/pw': ['p4ss', '0440'], u: ['admin', '0400'] });
  });

  it('missing secret or key: upstream messages; optional tolerated', async () => {
    await expect(failure({ secret: { secretName: 'ghost' } })).rejects.toThrow('secret "ghost" not found');
    await expect(
      failure({ secret: { secretName: 's1', items: [{ key: 'nope', path: 'x' }] } }),
    ).rejects.toThrow(/^references non-existent secret key: nope$/);
    expect(await payload({ secret: { secretName: 'ghost', optional: true } })).toEqual({});
    expect(
      await payload({ secret: { secretName: 's1', optional: true, items: [{ key: 'nope', path: 'x' }] } }),
    ).toEqual({});
  });
});

describe('downwardAPI', () => {
  it('labels and annotations as sorted key="value" lines (Go %q), without a final newline', async () => {
    expect(fieldPathValue(pod, 'metadata.labels')).toBe('app="web"\nexample.com/z="last"\ntier="front"');
    expect(fieldPathValue(pod, 'metadata.annotations')).toBe(
      'b="ü€"\nc="\\a\\x7f\\u00a0"\nnote="say \\"hi\\"\\n\\ttab"',
    );
    expect(fieldPathValue({ metadata: {} }, 'metadata.labels')).toBe('');
  });

  it('goQuote matches strconv.Quote', () => {
    expect(goQuote('')).toBe('""');
    expect(goQuote('a\\b')).toBe('"a\\\\b"');
    expect(goQuote('\u0000\b\f\r\v')).toBe('"\\x00\\b\\f\\r\\v"');
    expect(goQuote('日本 😀')).toBe('"日本 😀"');
    expect(goQuote('\u2028\u200b\ufeff')).toBe('"\\u2028\\u200b\\ufeff"');
    expect(goQuote('\u{e0001}')).toBe('"\\U000e0001"');
    expect(goQuote('\u00ad\u0300x')).toBe('"\\u00ad\u0300x"');
  });

  it('every supported field path', async () => {
    expect(
      await payload({
        downwardAPI: {
          defaultMode: 0o640,
          items: [
            { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
            { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" }, mode: 0o444 },
            { path: 'annotations/note', fieldRef: { fieldPath: "metadata.annotations['note']" } },
          ],
        },
      }),
    ).toEqual({
      name: ['p', '0640'],
      ns: ['ns1', '0640'],
      uid: ['uid-1', '0640'],
      labels: ['app="web"\nexample.com/z="last"\ntier="front"', '0640'],
      tier: ['front', '0444'],
      'annotations/note': ['say "hi"\n\ttab', '0640'],
    });
  });

  it('unsupported paths fail together, like an aggregate error', async () => {
    await expect(
      failure({ downwardAPI: { items: [{ path: 'a', fieldRef: { fieldPath: 'spec.nodeName' } }] } }),
    ).rejects.toThrow(/^unsupported fieldPath: spec.nodeName$/);
    await expect(
      failure({
        downwardAPI: {
          items: [
            { path: 'a', fieldRef: { fieldPath: 'spec.nodeName' } },
            { path: 'b', fieldRef: { fieldPath: 'status.podIP' } },
            { path: 'c', fieldRef: { fieldPath: 'metadata.name' } },
          ],
        },
      }),
    ).rejects.toThrow(/^\[unsupported fieldPath: spec.nodeName, unsupported fieldPath: status.podIP\]$/);
  });
});

describe('projected volume', () => {
  it('the default service-account volume: token, ca.crt and namespace', async () => {
    cms.push({ metadata: { name: 'kube-root-ca.crt', namespace: 'ns1' }, data: { 'ca.crt': 'PEM' } });
    tokens.length = 0;
    expect(
      await payload({
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
        },
      }),
    ).toEqual({
      token: ['token-for-builder', '0644'],
      'ca.crt': ['PEM', '0644'],
      namespace: ['ns1', '0644'],
    });
    expect(tokens).toEqual(['p builder - 3607']);
  });

  it('custom audience and expiry; a mix of secret and configMap with modes', async () => {
    tokens.length = 0;
    expect(
      await payload({
        projected: {
          defaultMode: 0o440,
          sources: [
            { serviceAccountToken: { path: 'vault/token', audience: 'vault', expirationSeconds: 7200 } },
            { secret: { name: 's1', items: [{ key: 'user', path: 'creds/user', mode: 0o400 }] } },
            { configMap: { name: 'cm1', items: [{ key: 'other', path: 'other' }] } },
          ],
        },
      }),
    ).toEqual({
      'vault/token': ['token-for-builder', '0440'],
      'creds/user': ['admin', '0400'],
      other: ['o', '0440'],
    });
    expect(tokens).toEqual(['p builder vault 7200']);
  });

  it('optional missing sources are skipped; every failing source is reported', async () => {
    expect(
      await payload({
        projected: {
          sources: [
            { configMap: { name: 'ghost', optional: true } },
            { secret: { name: 'ghost', optional: true, items: [{ key: 'k', path: 'k' }] } },
            { configMap: { name: 'cm1', items: [{ key: 'other', path: 'o' }] } },
          ],
        },
      }),
    ).toEqual({ o: ['o', '0644'] });
    await expect(
      failure({ projected: { sources: [{ configMap: { name: 'ghost' } }, { secret: { name: 'ghost2' } }] } }),
    ).rejects.toThrow('[configmap "ghost" not found, secret "ghost2" not found]');
  });

  it('a token request failure is the volume error', async () => {
    const failing: VolumeLookup = {
      ...lookup,
      token: async () => Promise.reject(new Error('forbidden: no token for you')),
    };
    await expect(
      volumeFiles(
        pod,
        { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
        failing,
      ),
    ).rejects.toThrow('forbidden: no token for you');
  });
});

// Upstream downwardapi.CollectData resourceFieldRef items (ExtractResourceValueByContainerName-
// AndNodeAllocatable) and projected collectData's token mode: 0600 when FsUserFrom(pod) or the
// fsGroup is set (pkg/volume/util FsUserFrom: the one runAsUser every container shares).
describe('downwardAPI resourceFieldRef and token ownership', () => {
  const resPod: Pod = {
    metadata: { name: 'p', namespace: 'ns1' },
    spec: {
      containers: [{ name: 'c', resources: { requests: { cpu: '250m' }, limits: { memory: '128Mi' } } }],
    },
  };
  const alloc = { cpuMillis: 4000, memoryBytes: 1024 ** 3, ephemeralBytes: 0 };

  it('values, with allocatable as the default limit', async () => {
    const files = await volumeFiles(
      resPod,
      {
        name: 'v',
        downwardAPI: {
          items: [
            {
              path: 'cpu_request',
              resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' },
            },
            { path: 'cpu_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
            { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory' } },
          ],
        },
      },
      lookup,
      { allocatable: alloc },
    );
    expect(Object.fromEntries([...files].map(([p, f]) => [p, f.data.toString()]))).toEqual({
      cpu_request: '250',
      cpu_limit: '4',
      mem: '134217728',
    });
  });

  it('errors are aggregated with upstream messages', async () => {
    await expect(
      volumeFiles(
        resPod,
        {
          name: 'v',
          projected: {
            sources: [
              {
                downwardAPI: {
                  items: [
                    { path: 'a', resourceFieldRef: { containerName: 'ghost', resource: 'limits.cpu' } },
                    { path: 'b', resourceFieldRef: { containerName: 'c', resource: 'limits.gpu' } },
                  ],
                },
              },
            ],
          },
        },
        lookup,
      ),
    ).rejects.toThrow('[container ghost not found, unsupported container resource : limits.gpu]');
  });

  it('fsUserFrom: the shared runAsUser of all containers, else none', () => {
    const mk = (podUser: number | undefined, users: (number | undefined)[]): Pod => ({
      spec: {
        securityContext: podUser === undefined ? {} : { runAsUser: podUser },
        containers: users.map((u, i) => ({
          name: `c${i}`,
          ...(u === undefined ? {} : { securityContext: { runAsUser: u } }),
        })),
      },
    });
    expect(fsUserFrom(mk(1000, [undefined, undefined]))).toBe(1000);
    expect(fsUserFrom(mk(undefined, [1000, 1000]))).toBe(1000);
    expect(fsUserFrom(mk(1000, [2000, undefined]))).toBeUndefined();
    expect(fsUserFrom(mk(undefined, [1000, undefined]))).toBeUndefined();
    expect(fsUserFrom(mk(0, [undefined]))).toBe(0);
  });

  it('the token is 0600 (owned by the fsUser) when an fsUser or fsGroup applies', async () => {
    const vol = {
      name: 'v',
      projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { path: 't' } }] },
    };
    const plain = await volumeFiles(pod, vol, lookup);
    expect(plain.get('t')).toMatchObject({ mode: 0o644 });
    expect(plain.get('t')?.fsUser).toBeUndefined();
    const grp = await volumeFiles(
      { ...pod, spec: { ...pod.spec!, securityContext: { fsGroup: 5 } } },
      vol,
      lookup,
    );
    expect(grp.get('t')).toMatchObject({ mode: 0o600 });
    expect(grp.get('t')?.fsUser).toBeUndefined();
    const usr = await volumeFiles(
      { ...pod, spec: { ...pod.spec!, securityContext: { runAsUser: 7 } } },
      vol,
      lookup,
    );
    expect(usr.get('t')).toMatchObject({ mode: 0o600, fsUser: 7 });
  });
});
