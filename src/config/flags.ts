/**
 * The kubelet command line, with upstream's flag names. node:util parseArgs tokenizes; we check
 * each token ourselves so messages name the flag, and so `--flag=value`, `--flag value` and
 * pflag-style booleans (`--register-node=false`) all work.
 */
import { isIP } from 'node:net';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DurationError, parseDuration } from '../util/duration.js';
import { FlagError } from './errors.js';
import type { KubeletConfiguration, Taint, TaintEffect } from './kubeletConfig.js';
import type { LogLevel } from './types.js';
import { UPSTREAM_FLAGS, type UpstreamFlag } from './upstreamFlags.js';

export const DEFAULT_ROOT_DIR = '/var/lib/kubelet';
/** Upstream's --cert-dir default: a fixed path, not <root-dir>/pki. */
export const DEFAULT_CERT_DIR = '/var/lib/kubelet/pki';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface FlagDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The KubeletConfiguration field the flag overrides, if any. */
  field?: keyof KubeletConfiguration;
  arg?: string;
  help: string;
}

const FLAGS = {
  config: {
    type: 'string',
    arg: 'path',
    help: 'Path to a KubeletConfiguration file; flags override its values.',
  },
  kubeconfig: { type: 'string', arg: 'path', help: 'Path to the kubeconfig used to reach the API server.' },
  'bootstrap-kubeconfig': {
    type: 'string',
    arg: 'path',
    help: 'Kubeconfig for TLS bootstrap, used when --kubeconfig does not exist yet.',
  },
  'cert-dir': {
    type: 'string',
    arg: 'path',
    help: 'Directory for TLS certificates (default /var/lib/kubelet/pki, whatever --root-dir says, as upstream).',
  },
  'root-dir': {
    type: 'string',
    arg: 'path',
    help: `Directory for kubelet state (default ${DEFAULT_ROOT_DIR}).`,
  },
  'hostname-override': {
    type: 'string',
    arg: 'name',
    help: 'Use this as the node name instead of the hostname.',
  },
  'node-ip': { type: 'string', arg: 'ip[,ip]', help: 'Node IP address(es): one, or one IPv4 and one IPv6.' },
  'container-runtime-endpoint': {
    type: 'string',
    field: 'containerRuntimeEndpoint',
    arg: 'url',
    help: 'CRI endpoint (default unix:///run/containerd/containerd.sock).',
  },
  'runtime-request-timeout': {
    type: 'string',
    field: 'runtimeRequestTimeout',
    arg: 'duration',
    help: 'Timeout for CRI requests except long-running ones (default 2m0s).',
  },
  'pod-manifest-path': {
    type: 'string',
    field: 'staticPodPath',
    arg: 'path',
    help: 'Directory or file of static pods.',
  },
  'register-node': {
    type: 'boolean',
    field: 'registerNode',
    help: 'Register the Node object with the API server (default true).',
  },
  'node-labels': {
    type: 'string',
    multiple: true,
    field: 'nodeLabels',
    arg: 'k=v,...',
    help: 'Labels to add when registering the node.',
  },
  'max-pods': {
    type: 'string',
    field: 'maxPods',
    arg: 'int',
    help: 'Maximum number of pods on this node (default 110).',
  },
  'cluster-dns': {
    type: 'string',
    multiple: true,
    field: 'clusterDNS',
    arg: 'ip,...',
    help: 'Cluster DNS server IP(s) for pods.',
  },
  'cluster-domain': {
    type: 'string',
    field: 'clusterDomain',
    arg: 'domain',
    help: 'Cluster DNS domain (e.g. cluster.local).',
  },
  'cri-concurrency': {
    type: 'string',
    arg: 'int',
    help: 'kubelet-ts only: CRI calls that create sandboxes and containers in flight at once (default 4).',
  },
  v: { type: 'string', short: 'v', arg: 'int', help: 'klog verbosity: 0-1 info, 2-3 debug, 4+ trace.' },
  'log-level': { type: 'string', arg: 'level', help: `Log level, overrides --v (${LOG_LEVELS.join(', ')}).` },
  help: { type: 'boolean', short: 'h', help: 'Print this help and exit.' },
  version: { type: 'boolean', help: 'Print the version and exit.' },
} as const satisfies Record<string, FlagDef>;

type FlagName = keyof typeof FLAGS;

export interface ParsedFlags {
  help: boolean;
  version: boolean;
  config: string | undefined;
  kubeconfig: string | undefined;
  bootstrapKubeconfig: string | undefined;
  hostnameOverride: string | undefined;
  nodeIPs: string[];
  rootDir: string;
  certDir: string;
  /** --cri-concurrency (kubelet-ts's own flag). */
  criConcurrency: number;
  /** From --log-level, else from --v, else 'info'. */
  logLevel: LogLevel;
  /** KubeletConfiguration fields given explicitly on the command line; they win over the file. */
  overrides: KubeletConfiguration;
  /** Which command-line flag set each overridden field, e.g. { maxPods: '--max-pods' }. */
  overriddenBy: Partial<Record<keyof KubeletConfiguration, string>>;
  /** Deprecated or ignored flags, as upstream prints them ("Flag --x has been deprecated, …"). */
  warnings: string[];
}

/** klog verbosity (--v) → our log level: 0-1 info, 2-3 debug, 4 and above trace. */
export function klogVerbosityToLevel(v: number): LogLevel {
  if (v >= 4) return 'trace';
  if (v >= 2) return 'debug';
  return 'info';
}

function parseInteger(flag: string, value: string): number {
  if (!/^[+-]?[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new FlagError(`flag ${flag}: invalid integer ${JSON.stringify(value)}`);
  }
  return Number(value);
}

// Go's strconv.ParseBool, which pflag uses.
function parseBool(flag: string, value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new FlagError(`flag ${flag}: invalid boolean ${JSON.stringify(value)}`);
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseLabels(flag: string, value: string, into: Record<string, string>): void {
  for (const pair of splitList(value)) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new FlagError(`flag ${flag}: malformed pair ${JSON.stringify(pair)}, expect key=value`);
    into[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
}

function parseNodeIPs(flag: string, value: string): string[] {
  const ips = splitList(value);
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new FlagError(`flag ${flag}: invalid IP address ${JSON.stringify(ip)}`);
  }
  if (ips.length > 2)
    throw new FlagError(`flag ${flag}: at most two IPs may be given (one per family), got ${ips.length}`);
  const [a, b] = ips;
  if (a !== undefined && b !== undefined && isIP(a) === isIP(b)) {
    throw new FlagError(
      `flag ${flag}: dual-stack node IPs must be of different IP families, got ${JSON.stringify(value)}`,
    );
  }
  return ips;
}

/** Parses the kubelet command line. Pure: no defaults from the environment, no I/O. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, def] of Object.entries(UPSTREAM_FLAGS)) {
    options[name] = { type: def.kind === 'bool' ? 'boolean' : 'string' };
  }
  for (const [name, def] of Object.entries(FLAGS) as [FlagName, FlagDef][]) {
    options[name] = { type: def.type, ...(def.short ? { short: def.short } : {}) };
  }
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const values = new Map<FlagName, string[]>();
  const upstreamValues = new Map<string, string[]>();
  let previous: { rawName: string; boolean: boolean } | undefined;
  let terminated = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      terminated = true;
      continue;
    }
    if (token.kind === 'positional') {
      const hint =
        !terminated && previous?.boolean && /^(true|false)$/i.test(token.value)
          ? ` (boolean flags take their value with '=': ${previous.rawName}=${token.value})`
          : '';
      throw new FlagError(`unexpected argument ${JSON.stringify(token.value)}${hint}`);
    }
    if (!Object.hasOwn(FLAGS, token.name)) {
      const up = UPSTREAM_FLAGS[token.name];
      if (!up || token.rawName.length === 2) throw new FlagError(`unknown flag: ${token.rawName}`);
      upstreamValues.set(token.name, [
        ...(upstreamValues.get(token.name) ?? []),
        flagValue(token.rawName, up.kind === 'bool', token.value, token.inlineValue),
      ]);
      previous = { rawName: token.rawName, boolean: up.kind === 'bool' };
      continue;
    }
    const name = token.name as FlagName;
    const def: FlagDef = FLAGS[name];
    let value = token.value;
    if (def.type === 'string') {
      // `--max-pods --register-node` would otherwise swallow the next flag as the value.
      if (value === undefined || (!token.inlineValue && value.startsWith('--'))) {
        throw new FlagError(`flag ${token.rawName}: missing value`);
      }
      if (token.inlineValue && token.rawName.length === 2) value = value.replace(/^=/, ''); // -v=4
    } else {
      value = value === undefined ? 'true' : String(parseBool(token.rawName, value));
    }
    values.set(name, [...(values.get(name) ?? []), value]);
    previous = { rawName: token.rawName, boolean: def.type === 'boolean' };
  }

  const last = (name: FlagName): string | undefined => values.get(name)?.at(-1);
  const overrides: KubeletConfiguration = {};
  const overriddenBy: ParsedFlags['overriddenBy'] = {};
  const set = <K extends keyof KubeletConfiguration>(
    flag: FlagName,
    field: K,
    value: KubeletConfiguration[K],
  ) => {
    overrides[field] = value;
    overriddenBy[field] = `--${flag}`;
  };

  for (const name of values.keys()) {
    const def: FlagDef = FLAGS[name];
    const flag = `--${name}`;
    const value = last(name) ?? '';
    switch (def.field) {
      case 'containerRuntimeEndpoint':
      case 'staticPodPath':
      case 'clusterDomain':
        set(name, def.field, value);
        break;
      case 'runtimeRequestTimeout':
        checkDuration(flag, value);
        set(name, def.field, value);
        break;
      case 'registerNode':
        set(name, def.field, value === 'true');
        break;
      case 'maxPods':
        set(name, def.field, parseInteger(flag, value));
        break;
      case 'clusterDNS':
        set(name, def.field, (values.get(name) ?? []).flatMap(splitList));
        break;
      case 'nodeLabels': {
        const labels: Record<string, string> = {};
        for (const v of values.get(name) ?? []) parseLabels(flag, v, labels);
        set(name, def.field, labels);
        break;
      }
      default:
        break;
    }
  }

  const warnings: string[] = [];
  for (const name of [...values.keys(), ...upstreamValues.keys()]) {
    const up = UPSTREAM_FLAGS[name];
    if (up?.deprecated) warnings.push(`Flag --${name} has been deprecated, ${up.deprecated}`);
  }
  for (const [name, raw] of upstreamValues) {
    const up = UPSTREAM_FLAGS[name] as UpstreamFlag;
    if (!up.field) {
      warnings.push(
        `flag --${name} is accepted for compatibility but not implemented by kubelet-ts; ignored`,
      );
      continue;
    }
    const top = up.field.split('.')[0] as keyof KubeletConfiguration;
    setPath(overrides as Record<string, unknown>, up.field, convertFlag(`--${name}`, up, raw));
    overriddenBy[top] = `--${name}`;
  }

  const verbosity = last('v');
  const logLevel = last('log-level');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new FlagError(
      `flag --log-level: invalid level ${JSON.stringify(logLevel)} (one of ${LOG_LEVELS.join(', ')})`,
    );
  }
  const v = verbosity === undefined ? undefined : parseInteger('--v', verbosity);
  if (v !== undefined && v < 0) throw new FlagError(`flag --v: verbosity must not be negative, got ${v}`);

  const criFlag = last('cri-concurrency');
  const criConcurrency = criFlag === undefined ? 4 : parseInteger('--cri-concurrency', criFlag);
  if (criConcurrency < 1) {
    throw new FlagError(`flag --cri-concurrency: must be at least 1, got ${criConcurrency}`);
  }
  const rootDir = last('root-dir') || DEFAULT_ROOT_DIR;
  const nodeIP = last('node-ip');
  return {
    help: last('help') === 'true',
    version: last('version') === 'true',
    config: last('config') || undefined,
    kubeconfig: last('kubeconfig') || undefined,
    bootstrapKubeconfig: last('bootstrap-kubeconfig') || undefined,
    hostnameOverride: last('hostname-override') || undefined,
    nodeIPs: nodeIP === undefined ? [] : parseNodeIPs('--node-ip', nodeIP),
    rootDir,
    // Upstream's default is this fixed path, not <root-dir>/pki (options.go NewKubeletFlags).
    certDir: last('cert-dir') || DEFAULT_CERT_DIR,
    criConcurrency,
    logLevel: (logLevel as LogLevel | undefined) ?? (v === undefined ? 'info' : klogVerbosityToLevel(v)),
    overrides,
    overriddenBy,
    warnings,
  };
}

/** A flag token's value: pflag booleans are `--x` or `--x=bool`; others need a value. */
function flagValue(
  rawName: string,
  boolean: boolean,
  value: string | undefined,
  inline: boolean | undefined,
): string {
  if (boolean) return value === undefined ? 'true' : String(parseBool(rawName, value));
  if (value === undefined || (!inline && value.startsWith('--'))) {
    throw new FlagError(`flag ${rawName}: missing value`);
  }
  return value;
}

function parseMap(flag: string, values: string[], sep: '=' | '<'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values.flatMap(splitList)) {
    const at = pair.indexOf(sep);
    if (at <= 0)
      throw new FlagError(`flag ${flag}: malformed pair ${JSON.stringify(pair)}, expect key${sep}value`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

/** upstream RegisterWithTaintsVar: `key=value:Effect` or `key:Effect`, comma separated. */
function parseTaints(flag: string, values: string[]): Taint[] {
  return values.flatMap(splitList).map((spec) => {
    const colon = spec.lastIndexOf(':');
    const effect = spec.slice(colon + 1);
    if (colon <= 0 || !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      throw new FlagError(`flag ${flag}: invalid taint spec: ${JSON.stringify(spec)}`);
    }
    const kv = spec.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    return { key, ...(eq < 0 ? {} : { value: kv.slice(eq + 1) }), effect: effect as TaintEffect };
  });
}

/** Converts the values of an upstream flag to its KubeletConfiguration field's type. */
/** A Go duration flag value ('10s', '1m30s'); a FlagError names the flag. */
function checkDuration(flag: string, value: string): void {
  try {
    parseDuration(value);
  } catch (e) {
    if (e instanceof DurationError)
      throw new FlagError(`flag ${flag}: invalid duration ${JSON.stringify(value)}: ${e.message}`);
    throw e;
  }
}

function convertFlag(flag: string, def: UpstreamFlag, values: string[]): unknown {
  const value = values.at(-1) ?? '';
  switch (def.kind) {
    case 'bool':
      return value === 'true';
    case 'int':
      return parseInteger(flag, value);
    case 'float': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n))
        throw new FlagError(`flag ${flag}: invalid number ${JSON.stringify(value)}`);
      return n;
    }
    case 'duration':
      checkDuration(flag, value);
      return value;
    case 'list':
      return values.flatMap(splitList);
    case 'map':
      return parseMap(flag, values, '=');
    case 'langleMap':
      return parseMap(flag, values, '<');
    case 'taints':
      return parseTaints(flag, values);
    default:
      return value;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = target;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (typeof next !== 'object' || next === null) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts.at(-1) as string] = value;
}

/** The --help text. */
export function usage(program = 'kubelet-ts'): string {
  const rows = (Object.entries(FLAGS) as [FlagName, FlagDef][]).map(([name, def]) => {
    const short = def.short ? `-${def.short}, ` : '    ';
    const arg = def.type === 'string' ? ` <${def.arg ?? 'value'}>` : '';
    return [`  ${short}--${name}${arg}`, def.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `Usage: ${program} [flags]`,
    '',
    'A Kubernetes node agent (kubelet) that drives containerd over the CRI.',
    'Flags accept --flag=value or --flag value; boolean flags take --flag or --flag=false.',
    '',
    'Flags:',
    ...rows.map(([left, help]) => `${left.padEnd(width)}${help}`),
    '',
  ].join('\n');
}
