import type { Pod } from '../api/types.js';

/**
 * PURE: the sysctl admission handler (upstream pkg/kubelet/sysctl: safe_sysctls.go,
 * allowlist.go; component-helpers node/util/sysctl). A pod may set only sysctls known to be
 * namespaced and allowlisted: the safe set for the kernel plus KubeletConfiguration
 * allowedUnsafeSysctls; otherwise it is rejected with reason SysctlForbidden.
 */

export const SYSCTL_FORBIDDEN_REASON = 'SysctlForbidden';

type SysctlNamespace = 'IPC' | 'Net' | 'UTS' | 'User';

/** Upstream safeSysctls, each with the first kernel where it is namespaced. */
const SAFE_SYSCTLS: readonly { name: string; kernel?: string }[] = [
  { name: 'kernel.shm_rmid_forced' },
  { name: 'net.ipv4.ip_local_port_range' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.ping_group_range' },
  { name: 'net.ipv4.ip_unprivileged_port_start' },
  { name: 'net.ipv4.ip_local_reserved_ports', kernel: '3.16' },
  { name: 'net.ipv4.tcp_keepalive_time', kernel: '4.5' },
  { name: 'net.ipv4.tcp_fin_timeout', kernel: '4.6' },
  { name: 'net.ipv4.tcp_keepalive_intvl', kernel: '4.5' },
  { name: 'net.ipv4.tcp_keepalive_probes', kernel: '4.5' },
  { name: 'net.ipv4.tcp_rmem', kernel: '4.15' },
  { name: 'net.ipv4.tcp_wmem', kernel: '4.15' },
  { name: 'net.ipv4.tcp_slow_start_after_idle', kernel: '4.15' },
  { name: 'net.ipv4.tcp_notsent_lowat', kernel: '4.6' },
];

const NAME_TO_NAMESPACE: Readonly<Record<string, SysctlNamespace>> = {
  'kernel.domainname': 'UTS',
  'kernel.sem': 'IPC',
  'kernel.shmall': 'IPC',
  'kernel.shmmax': 'IPC',
  'kernel.shmmni': 'IPC',
  'kernel.shm_rmid_forced': 'IPC',
  'kernel.shm': 'IPC',
  'kernel.msgmax': 'IPC',
  'kernel.msgmnb': 'IPC',
  'kernel.msgmni': 'IPC',
  'kernel.msg': 'IPC',
};

const PREFIX_TO_NAMESPACE: readonly [string, SysctlNamespace][] = [
  ['net', 'Net'],
  ['fs.mqueue', 'IPC'],
  ['user', 'User'],
];

const SYSCTL_MAX_LENGTH = 253;
const SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const PATTERN_SEGMENT = '([a-z0-9][-_a-z0-9]*)?[a-z0-9*]';
const PATTERN_FMT = `(${SEGMENT}[\\./])*${PATTERN_SEGMENT}`;
const PATTERN_RE = new RegExp(`^${PATTERN_FMT}$`);

/** The allowlist is invalid (a bad pattern, or a sysctl not known to be namespaced). */
export class SysctlAllowlistError extends Error {
  override readonly name = 'SysctlAllowlistError';
}

/**
 * Upstream NormalizeName: a name whose first separator is '/' uses '/' between segments and
 * '.' inside them; swap the two (net/ipv4/conf/eno2.100/rp_filter → net.ipv4.conf.eno2/100.rp_filter).
 */
export function normalizeSysctlName(val: string): string {
  const m = /[./]/.exec(val);
  if (!m || m[0] === '.') return val;
  return val.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

function namespaceOf(val: string): SysctlNamespace | undefined {
  const byName = NAME_TO_NAMESPACE[val];
  if (byName) return byName;
  for (const [p, ns] of PREFIX_TO_NAMESPACE) if (val.startsWith(`${p}.`)) return ns;
  return undefined;
}

/** Upstream GetNamespace: the namespace, the name or prefix before the first '*', and whether prefixed. */
function getNamespace(sysctl: string): {
  ns: SysctlNamespace | undefined;
  sysctlOrPrefix: string;
  prefixed: boolean;
} {
  let sysctlOrPrefix = normalizeSysctlName(sysctl);
  const star = sysctlOrPrefix.indexOf('*');
  const prefixed = star !== -1;
  if (prefixed) sysctlOrPrefix = sysctlOrPrefix.slice(0, star);
  return { ns: namespaceOf(sysctlOrPrefix), sysctlOrPrefix, prefixed };
}

/** Leading numeric components of a kernel release ("6.1.0-18-amd64" → [6, 1, 0]). */
function parseKernelVersion(release: string): number[] | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(release);
  return m?.[1] ? m[1].split('.').map(Number) : undefined;
}

function atLeast(have: number[], want: number[]): boolean {
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** Upstream SafeSysctlAllowlist: the safe sysctls namespaced on this kernel (release as uname -r). */
export function safeSysctlAllowlist(kernelRelease: string): string[] {
  const have = parseKernelVersion(kernelRelease);
  return SAFE_SYSCTLS.filter((s) => {
    if (!s.kernel) return true;
    const want = parseKernelVersion(s.kernel);
    return have !== undefined && want !== undefined && atLeast(have, want);
  }).map((s) => s.name);
}

export interface SysctlAllowlist {
  readonly sysctls: ReadonlyMap<string, SysctlNamespace>;
  readonly prefixes: ReadonlyMap<string, SysctlNamespace>;
}

/** Upstream NewAllowlist: names and patterns (ending in '*'); throws SysctlAllowlistError. */
export function newSysctlAllowlist(patterns: readonly string[]): SysctlAllowlist {
  const sysctls = new Map<string, SysctlNamespace>();
  const prefixes = new Map<string, SysctlNamespace>();
  for (const s of patterns) {
    if (s.length > SYSCTL_MAX_LENGTH || !PATTERN_RE.test(s)) {
      throw new SysctlAllowlistError(
        `sysctl "${s}" must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${PATTERN_FMT}`,
      );
    }
    const { ns, sysctlOrPrefix, prefixed } = getNamespace(s);
    if (!ns) throw new SysctlAllowlistError(`the sysctls "${sysctlOrPrefix}" are not known to be namespaced`);
    (prefixed ? prefixes : sysctls).set(sysctlOrPrefix, ns);
  }
  return { sysctls, prefixes };
}

function hostNamespaceConflict(
  sysctl: string,
  ns: SysctlNamespace,
  host: { net: boolean; ipc: boolean; users: boolean },
): string | undefined {
  if ((ns === 'IPC' && host.ipc) || (ns === 'Net' && host.net) || (ns === 'User' && host.users)) {
    return `"${sysctl}" not allowed with host ${ns} enabled`;
  }
  return undefined;
}

/** Upstream validateSysctl: undefined when allowed, else the error text. */
function validateSysctl(
  w: SysctlAllowlist,
  name: string,
  host: { net: boolean; ipc: boolean; users: boolean },
): string | undefined {
  const sysctl = normalizeSysctlName(name);
  const exact = w.sysctls.get(sysctl);
  if (exact) return hostNamespaceConflict(sysctl, exact, host);
  for (const [p, ns] of w.prefixes) {
    if (sysctl.startsWith(p)) return hostNamespaceConflict(sysctl, ns, host);
  }
  return `"${sysctl}" not allowlisted`;
}

export type SysctlAdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/** Upstream patternAllowlist.Admit: every pod sysctl must be allowlisted. */
export function admitSysctls(pod: Pod, w: SysctlAllowlist): SysctlAdmitResult {
  const spec = pod.spec;
  const host = {
    net: spec?.hostNetwork === true,
    ipc: spec?.hostIPC === true,
    // hostUsers defaults to true: an unset value shares the host user namespace.
    users: spec?.hostUsers !== false,
  };
  for (const s of spec?.securityContext?.sysctls ?? []) {
    const err = validateSysctl(w, s.name, host);
    if (err) return { admit: false, reason: SYSCTL_FORBIDDEN_REASON, message: `forbidden sysctl: ${err}` };
  }
  return { admit: true };
}
