import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { type DnsSettings, parseResolvConf, podDnsConfig } from '../../../src/sync/dns.js';

// podDnsConfig/parseResolvConf against upstream pkg/kubelet/network/dns (v1.37.2): GetPodDNS,
// getPodDNSType, appendDNSConfig/mergeDNSOptions, formDNSConfigFitsLimits, parseResolvConf.

const host = parseResolvConf(`# host resolver
nameserver 192.168.0.1
nameserver 192.168.0.2
search corp.example lab.example.
options timeout:2 rotate
`);

const settings = (over: Partial<DnsSettings> = {}): DnsSettings => ({
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host,
  ...over,
});

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns1', uid: 'u1' }, spec: { containers: [], ...spec } };
}

const CLUSTER_SEARCH = ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];

describe('parseResolvConf', () => {
  it('accumulates nameservers, keeps the last search line, accumulates options', () => {
    expect(host).toEqual({
      nameservers: ['192.168.0.1', '192.168.0.2'],
      searches: ['corp.example', 'lab.example'],
      options: ['timeout:2', 'rotate'],
    });
    expect(
      parseResolvConf(
        'search a.example\nnameserver 1.1.1.1\nsearch b.example c.example\n  # nameserver 9.9.9.9\n',
      ),
    ).toEqual({ nameservers: ['1.1.1.1'], searches: ['b.example', 'c.example'], options: [] });
  });

  it('drops "." and trailing dots from search, ignores domain lines', () => {
    expect(parseResolvConf('domain x.example\nsearch . a.example. b.example\n').searches).toEqual([
      'a.example',
      'b.example',
    ]);
    expect(parseResolvConf('domain x.example\n').searches).toEqual([]);
  });

  it('options: one per name, a later one wins', () => {
    expect(parseResolvConf('options ndots:1 timeout:1\noptions ndots:3 edns0\n').options).toEqual([
      'ndots:3',
      'timeout:1',
      'edns0',
    ]);
  });

  it('ignores a nameserver line without an address and empty input', () => {
    expect(parseResolvConf('nameserver\n\n')).toEqual({ nameservers: [], searches: [], options: [] });
    expect(parseResolvConf('')).toEqual({ nameservers: [], searches: [], options: [] });
  });
});

describe('podDnsConfig by dnsPolicy', () => {
  it('ClusterFirst (default): cluster DNS, cluster searches then host searches, ndots:5', () => {
    for (const p of [pod(), pod({ dnsPolicy: 'ClusterFirst' })]) {
      expect(podDnsConfig(p, settings())).toEqual({
        config: {
          servers: ['10.96.0.10'],
          searches: [...CLUSTER_SEARCH, 'corp.example', 'lab.example'],
          options: ['ndots:5'],
        },
        warnings: [],
      });
    }
  });

  it('ClusterFirst deduplicates host searches that repeat the cluster ones', () => {
    const s = settings({ host: { nameservers: [], searches: ['cluster.local', 'x.example'], options: [] } });
    expect(podDnsConfig(pod(), s).config.searches).toEqual([...CLUSTER_SEARCH, 'x.example']);
  });

  it('ClusterFirst without clusterDomain: only the host searches', () => {
    expect(podDnsConfig(pod(), settings({ clusterDomain: '' })).config).toEqual({
      servers: ['10.96.0.10'],
      searches: ['corp.example', 'lab.example'],
      options: ['ndots:5'],
    });
  });

  it('ClusterFirst + hostNetwork falls back to Default (the host resolv.conf)', () => {
    expect(podDnsConfig(pod({ hostNetwork: true }), settings()).config).toEqual({
      servers: ['192.168.0.1', '192.168.0.2'],
      searches: ['corp.example', 'lab.example'],
      options: ['timeout:2', 'rotate'],
    });
  });

  it('ClusterFirstWithHostNet uses the cluster DNS, with or without hostNetwork', () => {
    for (const hostNetwork of [true, false]) {
      expect(
        podDnsConfig(pod({ hostNetwork, dnsPolicy: 'ClusterFirstWithHostNet' }), settings()).config.servers,
      ).toEqual(['10.96.0.10']);
    }
  });

  it('Default: the host resolv.conf; resolvConf "" → 127.0.0.1 and search "."', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings()).config.servers).toEqual([
      '192.168.0.1',
      '192.168.0.2',
    ]);
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings({ host: undefined })).config).toEqual({
      servers: ['127.0.0.1'],
      searches: ['.'],
      options: [],
    });
  });

  it('None without dnsConfig is empty', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'None' }), settings())).toEqual({
      config: { servers: [], searches: [], options: [] },
      warnings: [],
    });
  });

  it('None + dnsConfig: exactly the pod settings', () => {
    const p = pod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.1.1.1', '8.8.8.8', '1.1.1.1'],
        searches: ['a.example', 'b.example', 'a.example'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }, { name: 'attempts', value: '' }],
      },
    });
    expect(podDnsConfig(p, settings()).config).toEqual({
      servers: ['1.1.1.1', '8.8.8.8'],
      searches: ['a.example', 'b.example'],
      options: ['ndots:2', 'edns0', 'attempts'],
    });
  });

  it('dnsConfig is appended to every policy; options override by name', () => {
    const dnsConfig = {
      nameservers: ['10.96.0.10', '9.9.9.9'],
      searches: ['extra.example', 'svc.cluster.local'],
      options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }, { name: 'rotate' }],
    };
    expect(podDnsConfig(pod({ dnsConfig }), settings()).config).toEqual({
      servers: ['10.96.0.10', '9.9.9.9'],
      searches: [...CLUSTER_SEARCH, 'corp.example', 'lab.example', 'extra.example'],
      options: ['ndots:1', 'single-request-reopen', 'rotate'],
    });
    expect(podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig }), settings()).config).toEqual({
      servers: ['192.168.0.1', '192.168.0.2', '10.96.0.10'],
      searches: ['corp.example', 'lab.example', 'extra.example', 'svc.cluster.local'],
      options: ['timeout:2', 'rotate', 'ndots:1', 'single-request-reopen'],
    });
  });

  it('an option value containing ":" is kept whole', () => {
    const s = settings({ host: { nameservers: ['1.1.1.1'], searches: [], options: ['foo:a:b'] } });
    expect(podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig: {} }), s).config.options).toEqual(['foo:a:b']);
  });
});

describe('podDnsConfig: missing cluster DNS and limits', () => {
  it('MissingClusterDNS and the Default fallback for ClusterFirst and ClusterFirstWithHostNet', () => {
    for (const dnsPolicy of ['ClusterFirst', 'ClusterFirstWithHostNet']) {
      const r = podDnsConfig(pod({ dnsPolicy }), settings({ clusterDNS: [] }));
      expect(r.config).toEqual({
        servers: ['192.168.0.1', '192.168.0.2'],
        searches: ['corp.example', 'lab.example'],
        options: ['timeout:2', 'rotate'],
      });
      expect(r.warnings).toEqual([
        {
          reason: 'MissingClusterDNS',
          message:
            'pod: "p_ns1(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
        },
      ]);
    }
  });

  it('no MissingClusterDNS for Default, None and hostNetwork ClusterFirst', () => {
    for (const spec of [{ dnsPolicy: 'Default' }, { dnsPolicy: 'None' }, { hostNetwork: true }]) {
      expect(podDnsConfig(pod(spec), settings({ clusterDNS: [] })).warnings).toEqual([]);
    }
  });

  it('more than 3 nameservers: the first 3 and a DNSConfigForming warning', () => {
    const r = podDnsConfig(
      pod({ dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] } }),
      settings(),
    );
    expect(r.config.servers).toEqual(['10.96.0.10', '1.1.1.1', '2.2.2.2']);
    expect(r.warnings).toEqual([
      {
        reason: 'DNSConfigForming',
        message:
          'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.96.0.10 1.1.1.1 2.2.2.2',
      },
    ]);
  });

  it('more than 32 searches: the first 32 and a DNSConfigForming warning', () => {
    const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const r = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches } }), settings());
    expect(r.config.searches).toEqual(searches.slice(0, 32));
    expect(r.warnings).toEqual([
      {
        reason: 'DNSConfigForming',
        message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.slice(0, 32).join(' ')}`,
      },
    ]);
  });

  it('cuts to 32 before dropping over-long (>253) domains, like upstream', () => {
    const long = `${'a'.repeat(250)}.com`;
    const searches = [long, ...Array.from({ length: 32 }, (_, i) => `d${i}.example`)];
    const r = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches } }), settings());
    expect(r.config.searches).toEqual(searches.slice(1, 32));
    expect(r.warnings.map((w) => w.reason)).toEqual(['DNSConfigForming']);
  });

  it('a domain over 253 chars is dropped with a warning even under the count limit', () => {
    const long = `${'b'.repeat(250)}.com`;
    const r = podDnsConfig(
      pod({ dnsPolicy: 'None', dnsConfig: { searches: ['ok.example', long] } }),
      settings(),
    );
    expect(r.config.searches).toEqual(['ok.example']);
    expect(r.warnings[0]?.message).toBe(
      'Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ok.example',
    );
  });

  it('a search line over 2048 chars loses domains from the end until it fits', () => {
    const searches = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(240)}.example`); // 248 chars each
    const r = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches } }), settings());
    // 8 domains: 8 × 248 + 7 = 1991 ≤ 2048; 9 would be 2240.
    expect(r.config.searches).toEqual(searches.slice(0, 8));
    expect(r.config.searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(r.warnings.map((w) => w.reason)).toEqual(['DNSConfigForming']);
  });

  it('exactly 3 nameservers, 32 searches and 2048 chars raise no warning', () => {
    const searches = [...Array.from({ length: 31 }, (_, i) => `${String(i).padStart(2, '0').repeat(30)}.ex`)];
    const used = searches.join(' ').length + 1; // + the separating space of the last one
    searches.push('z'.repeat(2048 - used));
    expect(searches.join(' ')).toHaveLength(2048);
    const r = podDnsConfig(
      pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'], searches } }),
      settings(),
    );
    expect(r.config.searches).toHaveLength(32);
    expect(r.config.servers).toHaveLength(3);
    expect(r.warnings).toEqual([]);
  });
});
