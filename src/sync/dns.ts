import type { Pod } from '../api/types.js';

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface HostResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  /** The node's resolv.conf (the `resolvConf` setting), parsed; undefined when resolvConf is "". */
  host: HostResolvConf | undefined;
}

export interface DnsResult {
  config: DnsConfig;
  /** Pod events to record (reason, message) for trimmed or missing configuration. */
  warnings: { reason: string; message: string }[];
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;
const MAX_DOMAIN_CHARS = 253;

/**
 * Parses resolv.conf text like upstream parseResolvConf: `nameserver` lines accumulate; the last
 * `search` line wins (a `.` entry dropped, trailing dots trimmed); `options` accumulate, one per
 * name, the last one winning. Lines starting with `#` are comments; `domain` is ignored.
 */
export function parseResolvConf(text: string): HostResolvConf {
  const out: HostResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    else if (key === 'search')
      out.searches = fields.filter((d) => d !== '.').map((d) => d.replace(/\.$/, ''));
    else if (key === 'options') out.options = appendOptions(out.options, fields);
  }
  return out;
}

const optionName = (o: string) => o.split(':')[0] ?? '';

/** Upstream appendOptions: one option per name, a later one replacing an earlier one in place. */
function appendOptions(options: string[], more: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...options, ...more]) byName.set(optionName(o), o);
  return [...byName.values()];
}

/** Upstream mergeDNSOptions: `name[:value]` strings merged with the pod's options by name. */
function mergeDnsOptions(options: string[], pod: { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of options) {
    const i = o.indexOf(':');
    if (i >= 0) byName.set(o.slice(0, i), o.slice(i + 1));
    else byName.set(o, '');
  }
  for (const o of pod) byName.set(o.name ?? '', o.value ?? '');
  return [...byName].map(([k, v]) => (v !== '' ? `${k}:${v}` : k));
}

const dedup = (xs: string[]) => [...new Set(xs)];

/** Upstream getPodDNSType: ClusterFirst falls back to Default on the host network. */
function dnsType(pod: Pod): 'cluster' | 'host' | 'none' {
  switch (pod.spec?.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'Default':
      return 'host';
    case 'ClusterFirst':
      return pod.spec?.hostNetwork === true ? 'host' : 'cluster';
    default:
      // ClusterFirstWithHostNet; an unknown policy is treated as ClusterFirst upstream too.
      return 'cluster';
  }
}

/** PURE: the sandbox DNS config for a pod (upstream pkg/kubelet/network/dns GetPodDNS). */
export function podDnsConfig(pod: Pod, s: DnsSettings): DnsResult {
  const warnings: DnsResult['warnings'] = [];
  let type = dnsType(pod);
  if (type === 'cluster' && s.clusterDNS.length === 0) {
    warnings.push({
      reason: 'MissingClusterDNS',
      message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
    });
    type = 'host';
  }

  let cfg: DnsConfig;
  if (type === 'none') {
    cfg = { servers: [], searches: [], options: [] };
  } else if (type === 'cluster') {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = s.clusterDomain;
    const hostSearches = s.host?.searches ?? [];
    cfg = {
      servers: [...s.clusterDNS],
      searches: d ? dedup([`${ns}.svc.${d}`, `svc.${d}`, d, ...hostSearches]) : [...hostSearches],
      options: ['ndots:5'],
    };
  } else if (s.host) {
    cfg = { servers: [...s.host.nameservers], searches: [...s.host.searches], options: [...s.host.options] };
  } else {
    // resolvConf "": effectively no DNS (the local resolver), like upstream.
    cfg = { servers: ['127.0.0.1'], searches: ['.'], options: [] };
  }

  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg.servers = dedup([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = dedup([...cfg.searches, ...(extra.searches ?? [])]);
    cfg.options = mergeDnsOptions(cfg.options, extra.options ?? []);
  }

  if (cfg.servers.length > MAX_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}`,
    });
  }
  // Upstream formDNSSearchFitsLimits: cut to 32 entries, drop entries over 253 chars, then drop
  // entries from the end until the line fits 2048 chars.
  let trimmed = cfg.searches.length > MAX_SEARCHES;
  const searches = cfg.searches.slice(0, MAX_SEARCHES).filter((d) => d.length <= MAX_DOMAIN_CHARS);
  if (searches.length !== Math.min(cfg.searches.length, MAX_SEARCHES)) trimmed = true;
  while (searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches.pop();
    trimmed = true;
  }
  cfg.searches = searches;
  if (trimmed) {
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    });
  }
  return { config: cfg, warnings };
}
