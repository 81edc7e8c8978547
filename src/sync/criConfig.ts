import type { Container, Pod } from '../api/types.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_PORTS,
  ANNOTATION_POD_DELETION_GRACE,
  ANNOTATION_POD_TERMINATION_GRACE,
  ANNOTATION_PRESTOP_HANDLER,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from '../cri/runtimeState.js';
import type {
  ContainerConfig,
  LinuxContainerResources,
  LinuxContainerSecurityContext,
  Mount,
  NamespaceOption,
  PodSandboxConfig,
  PortMapping,
} from '../cri/types.js';
import type { DnsConfig } from './dns.js';
import { containerHash } from './hash.js';
import { normalizeSysctlName } from './sysctl.js';

/**
 * PURE builders of the CRI objects the kubelet writes (upstream kuberuntime_sandbox*.go and
 * kuberuntime_container*.go). All inputs are passed in; files and lookups happen before.
 */

export const podFullName = (pod: Pod) => `${pod.metadata?.name}_${pod.metadata?.namespace}`;
export const podDesc = (pod: Pod) => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

/** /var/log/pods/<ns>_<name>_<uid> */
export const podLogDir = (podLogsDir: string, pod: Pod) =>
  `${podLogsDir}/${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`;

export const allContainers = (pod: Pod): Container[] => [
  ...(pod.spec?.initContainers ?? []),
  ...(pod.spec?.containers ?? []),
];

export function namespaceOptions(pod: Pod): NamespaceOption {
  const s = pod.spec;
  return {
    network: s?.hostNetwork ? 'NODE' : 'POD',
    pid: s?.hostPID ? 'NODE' : s?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s?.hostIPC ? 'NODE' : 'POD',
  };
}

/**
 * Upstream MakePortMappings per container: every declared port, a port whose name (or, unnamed,
 * whose family/protocol/hostIP/ports) repeats within the same container dropped.
 */
function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const seen = new Set<string>();
    for (const p of c.ports ?? []) {
      const family = !p.hostIP ? 'any' : p.hostIP.includes(':') ? 'v6' : 'v4';
      const name =
        p.name || `${family}-${p.protocol ?? ''}-${p.hostIP ?? ''}:${p.containerPort}:${p.hostPort ?? 0}`;
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({
        protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'],
        containerPort: p.containerPort,
        hostPort: p.hostPort ?? 0,
        hostIp: p.hostIP ?? '',
      });
    }
  }
  return out;
}

export interface SandboxInputs {
  pod: Pod;
  attempt: number;
  podLogsDir: string;
  dns: DnsConfig;
  cgroupParent: string;
  /** The kernel hostname (hostname.ts getNodenameForKernel); unused for hostNetwork pods. */
  hostname: string;
}

export function buildSandboxConfig(i: SandboxInputs): PodSandboxConfig {
  const { pod } = i;
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const psc = spec?.securityContext;
  const privileged = allContainers(pod).some((c) => c.securityContext?.privileged === true);
  const sysctls: Record<string, string> = {};
  // Upstream ConvertPodSysctlsVariableToDotsSeparator before the sandbox config.
  for (const s of psc?.sysctls ?? []) sysctls[normalizeSysctlName(s.name)] = s.value;
  return {
    metadata: {
      name: meta.name ?? '',
      namespace: meta.namespace ?? '',
      uid: meta.uid ?? '',
      attempt: i.attempt,
    },
    hostname: spec?.hostNetwork ? '' : i.hostname,
    logDirectory: podLogDir(i.podLogsDir, pod),
    dnsConfig: { servers: i.dns.servers, searches: i.dns.searches, options: i.dns.options },
    portMappings: portMappings(pod),
    labels: {
      ...(meta.labels ?? {}),
      [LABEL_POD_NAME]: meta.name ?? '',
      [LABEL_POD_NAMESPACE]: meta.namespace ?? '',
      [LABEL_POD_UID]: meta.uid ?? '',
    },
    annotations: { ...(meta.annotations ?? {}) },
    linux: {
      cgroupParent: i.cgroupParent,
      securityContext: {
        namespaceOptions: namespaceOptions(pod),
        privileged,
        runAsUser: psc?.runAsUser !== undefined ? { value: String(psc.runAsUser) } : null,
        runAsGroup: psc?.runAsGroup !== undefined ? { value: String(psc.runAsGroup) } : null,
        supplementalGroups: [
          ...(psc?.fsGroup !== undefined ? [String(psc.fsGroup)] : []),
          ...(psc?.supplementalGroups ?? []).map(String),
        ],
        seccomp: seccompProfile(psc?.seccompProfile),
      },
      sysctls,
    },
  };
}

function seccompProfile(p: { type: string; localhostProfile?: string } | undefined) {
  if (!p) return { profileType: 'Unconfined' as const, localhostRef: '' };
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' as const, localhostRef: '' };
  if (p.type === 'Localhost') {
    return { profileType: 'Localhost' as const, localhostRef: p.localhostProfile ?? '' };
  }
  return { profileType: 'Unconfined' as const, localhostRef: '' };
}

// Upstream securitycontext.defaultMaskedPaths / defaultReadonlyPaths (procMount Default).
const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Upstream MilliCPUToShares: m × 1024 / 1000, clamped to [2, 262144]. */
export function milliCpuToShares(m: number): number {
  if (m <= 0) return 2;
  return Math.min(262_144, Math.max(2, Math.floor((m * 1024) / 1000)));
}

/** Upstream milliCPUToQuota with a 100 ms period: [quota, period] in µs; quota ≥ 1000. */
export function milliCpuToQuota(m: number, periodUs = 100_000): [number, number] {
  if (m <= 0) return [0, 0];
  return [Math.max(1000, Math.floor((m * periodUs) / 1000)), periodUs];
}

export interface ResourceInputs {
  cpuRequestMillis: number;
  cpuLimitMillis: number;
  memoryLimitBytes: number;
  oomScoreAdj: number;
  cpuCfsQuota: boolean;
  cgroupV2: boolean;
}

/** Upstream calculateLinuxResources (with cpuCFSQuota the period is sent even without a limit). */
export function containerResources(r: ResourceInputs): LinuxContainerResources {
  const shares = milliCpuToShares(r.cpuRequestMillis > 0 ? r.cpuRequestMillis : r.cpuLimitMillis);
  const [quota, period] = r.cpuCfsQuota ? [milliCpuToQuota(r.cpuLimitMillis)[0], 100_000] : [0, 0];
  return {
    cpuShares: String(shares),
    cpuQuota: String(quota),
    cpuPeriod: String(period),
    memoryLimitInBytes: String(Math.floor(r.memoryLimitBytes)),
    oomScoreAdj: String(r.oomScoreAdj),
    unified: r.cgroupV2 ? { 'memory.oom.group': '1' } : {},
  };
}

function securityContext(
  pod: Pod,
  c: Container,
  nsTarget: string | undefined,
): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext;
  const sc = c.securityContext;
  const privileged = sc?.privileged === true;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? psc?.runAsGroup;
  const unmasked = privileged || sc?.procMount === 'Unmasked';
  return {
    capabilities: {
      addCapabilities: sc?.capabilities?.add ?? [],
      dropCapabilities: sc?.capabilities?.drop ?? [],
      addAmbientCapabilities: [],
    },
    privileged,
    namespaceOptions: containerNamespaceOptions(pod, nsTarget),
    runAsUser: runAsUser !== undefined ? { value: String(runAsUser) } : null,
    runAsGroup: runAsGroup !== undefined ? { value: String(runAsGroup) } : null,
    runAsUsername: '',
    readonlyRootfs: sc?.readOnlyRootFilesystem === true,
    supplementalGroups: [
      ...(psc?.fsGroup !== undefined ? [String(psc.fsGroup)] : []),
      ...(psc?.supplementalGroups ?? []).map(String),
    ],
    noNewPrivs: sc?.allowPrivilegeEscalation === false,
    maskedPaths: unmasked ? [] : DEFAULT_MASKED_PATHS,
    readonlyPaths: unmasked ? [] : DEFAULT_READONLY_PATHS,
    seccomp: seccompProfile(sc?.seccompProfile ?? psc?.seccompProfile),
  };
}

/**
 * A container's namespaces (upstream generateLinuxContainerConfig): an ephemeral container with
 * a target joins the target's PID namespace (TARGET) unless the pod shares one (POD or NODE).
 */
export function containerNamespaceOptions(pod: Pod, nsTarget: string | undefined): NamespaceOption {
  const ns = namespaceOptions(pod);
  if (nsTarget && ns.pid === 'CONTAINER') return { ...ns, pid: 'TARGET', targetId: nsTarget };
  return ns;
}

export interface ContainerInputs {
  pod: Pod;
  container: Container;
  restartCount: number;
  /** The image reference to run (the runtime's image ID, like upstream's resolved ref). */
  imageRef: string;
  env: Map<string, string>;
  command: string[];
  args: string[];
  mounts: Mount[];
  resources: LinuxContainerResources;
  /** An ephemeral container's target: the runtime ID of the targetContainerName container. */
  nsTarget?: string;
}

export const containerLogPath = (name: string, restartCount: number) => `${name}/${restartCount}.log`;

export function buildContainerConfig(i: ContainerInputs): ContainerConfig {
  const { pod, container: c } = i;
  const meta = pod.metadata ?? {};
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: containerHash(c),
    [ANNOTATION_RESTART_COUNT]: String(i.restartCount),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? '/dev/termination-log',
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
  };
  if (meta.deletionGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_POD_DELETION_GRACE] = String(meta.deletionGracePeriodSeconds);
  }
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_POD_TERMINATION_GRACE] = String(pod.spec.terminationGracePeriodSeconds);
  }
  if (c.lifecycle?.preStop) annotations[ANNOTATION_PRESTOP_HANDLER] = JSON.stringify(c.lifecycle.preStop);
  if (c.ports?.length) annotations[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(c.ports);
  return {
    metadata: { name: c.name, attempt: i.restartCount },
    image: { image: i.imageRef, userSpecifiedImage: c.image ?? '' },
    command: i.command,
    args: i.args,
    workingDir: c.workingDir ?? '',
    // KeyValue.value is proto `bytes` since cri-api v0.34: send the UTF-8 bytes, not a string.
    envs: [...i.env].map(([key, value]) => ({ key, value: Buffer.from(value, 'utf8') })),
    mounts: i.mounts,
    logPath: containerLogPath(c.name, i.restartCount),
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    labels: {
      [LABEL_POD_NAME]: meta.name ?? '',
      [LABEL_POD_NAMESPACE]: meta.namespace ?? '',
      [LABEL_POD_UID]: meta.uid ?? '',
      [LABEL_CONTAINER_NAME]: c.name,
    },
    annotations,
    linux: { resources: i.resources, securityContext: securityContext(pod, c, i.nsTarget) },
  };
}

/**
 * Upstream verifyRunAsNonRoot: the error text for CreateContainerConfigError, or undefined.
 * imageUid/imageUser come from ImageStatus; an image with neither runs as root.
 */
export function verifyRunAsNonRoot(
  pod: Pod,
  c: Container,
  imageUid: number | undefined,
  imageUser: string,
): string | undefined {
  const psc = pod.spec?.securityContext;
  const sc = c.securityContext;
  const nonRoot = sc?.runAsNonRoot ?? psc?.runAsNonRoot;
  if (!nonRoot) return undefined;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) {
    return runAsUser === 0
      ? `container's runAsUser breaks non-root policy (pod: "${podDesc(pod)}", container: ${c.name})`
      : undefined;
  }
  if (imageUid === undefined && imageUser !== '') {
    return `container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root (pod: "${podDesc(pod)}", container: ${c.name})`;
  }
  if ((imageUid ?? 0) === 0) {
    return `container has runAsNonRoot and image will run as root (pod: "${podDesc(pod)}", container: ${c.name})`;
  }
  return undefined;
}

/** The mount propagation CRI enum for a volumeMount. */
export function propagation(p: string | undefined): Mount['propagation'] {
  if (p === 'HostToContainer') return 'PROPAGATION_HOST_TO_CONTAINER';
  if (p === 'Bidirectional') return 'PROPAGATION_BIDIRECTIONAL';
  return 'PROPAGATION_PRIVATE';
}
