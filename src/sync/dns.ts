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

/** Parses resolv.conf text: nameserver, search/domain and options lines. */
export function parseResolvConf(text: string): HostResolvConf {
  const out: HostResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    else if (key === 'search') out.searches = fields;
    else if (key === 'domain' && fields[0]) out.searches = [fields[0]];
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

const dedup = (xs: string[]) => [...new Set(xs)];

/** PURE: the sandbox DNS config for a pod (upstream pkg/kubelet/network/dns). */
export function podDnsConfig(pod: Pod, s: DnsSettings): DnsResult {
  const warnings: DnsResult['warnings'] = [];
  const hostNetwork = pod.spec?.hostNetwork === true;
  let policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && hostNetwork) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && s.clusterDNS.length === 0) {
    warnings.push({
      reason: 'MissingClusterDNS',
      message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.`,
    });
    policy = 'Default';
  }
  const hostConf = (): DnsConfig =>
    s.host
      ? { servers: [...s.host.nameservers], searches: [...s.host.searches], options: [...s.host.options] }
      : { servers: ['127.0.0.1'], searches: ['.'], options: [] };

  let cfg: DnsConfig;
  switch (policy) {
    case 'ClusterFirst':
    case 'ClusterFirstWithHostNet': {
      const ns = pod.metadata?.namespace ?? 'default';
      const d = s.clusterDomain;
      const clusterSearch = d ? [`${ns}.svc.${d}`, `svc.${d}`, d] : [];
      cfg = {
        servers: [...s.clusterDNS],
        searches: dedup([...clusterSearch, ...(s.host?.searches ?? [])]),
        options: ['ndots:5'],
      };
      break;
    }
    case 'None':
      cfg = { servers: [], searches: [], options: [] };
      break;
    default:
      cfg = hostConf();
  }

  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg.servers = dedup([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = dedup([...cfg.searches, ...(extra.searches ?? [])]);
    const opts = new Map<string, string | undefined>();
    for (const o of cfg.options) {
      const [k, v] = o.split(':', 2) as [string, string | undefined];
      opts.set(k, v);
    }
    for (const o of extra.options ?? []) opts.set(o.name ?? '', o.value);
    cfg.options = [...opts].filter(([k]) => k).map(([k, v]) => (v !== undefined ? `${k}:${v}` : k));
  }

  if (cfg.servers.length > MAX_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}`,
    });
  }
  const searches = cfg.searches.filter((d) => d.length <= 253);
  let trimmed = searches.length !== cfg.searches.length;
  while (searches.length > MAX_SEARCHES || searches.join(' ').length > MAX_SEARCH_CHARS) {
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
