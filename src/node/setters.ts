/**
 * The Node object the kubelet registers and the NodeStatus it reports, as upstream's
 * pkg/kubelet/nodestatus setters and kubelet_node_status.go compute them. Pure: every input,
 * including the clock (`now`), is passed in; transitions come back as events to record.
 */
import { type Node, type NodeCondition, type NodeStatus, rfc3339 } from '../api/types.js';
import type { HostFacts } from '../host/types.js';
import {
  aggregateErrors,
  type NodeStatusEvent,
  nodeStatusEvent,
  PRESSURE_CONDITIONS,
  type PressureFlags,
  pressureCondition,
  type RuntimeHealth,
  readyCondition,
  schedulableEvent,
  upsert,
} from './conditions.js';
import { nodeAllocatable } from './config.js';
import {
  type EvictionThresholdValue,
  formatBinarySI,
  formatCpuMillis,
  formatDecimalSI,
  sameQuantity,
} from './resources.js';
import { semanticEqual } from './semantic.js';

export {
  aggregateErrors,
  type NodeStatusEvent,
  nodeStatusEvent,
  type PressureFlags,
  type RuntimeHealth,
  schedulableEvent,
};

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LEGACY_LABEL_OS = 'beta.kubernetes.io/os';
export const LEGACY_LABEL_ARCH = 'beta.kubernetes.io/arch';
export const ANNOTATION_CMAD = 'volumes.kubernetes.io/controller-managed-attach-detach';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Labels the kubelet re-asserts on an already registered Node (upstream updateDefaultLabels). */
export const RECONCILED_LABELS = [
  LABEL_HOSTNAME,
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
  LABEL_OS,
  LABEL_ARCH,
  'node.kubernetes.io/windows-build',
  LEGACY_LABEL_OS,
  LEGACY_LABEL_ARCH,
] as const;

export const MAX_NAMES_PER_IMAGE = 5;

export interface ResourceReservation {
  cpuMillis?: number;
  memoryBytes?: number;
  ephemeralStorageBytes?: number;
  /** Carried for completeness: pids have no capacity entry, so they never change allocatable. */
  pids?: number;
}

/** Hard-eviction thresholds that reserve capacity (config default: 100Mi and 10 %). */
export interface HardEvictionReservation {
  memoryAvailable?: EvictionThresholdValue;
  nodefsAvailable?: EvictionThresholdValue;
}

export const DEFAULT_EVICTION_HARD: HardEvictionReservation = {
  memoryAvailable: { bytes: 100 * 1024 * 1024 },
  nodefsAvailable: { percentage: 0.1 },
};

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface RuntimeInfo {
  /** CRI runtime name, e.g. "containerd". */
  name: string;
  /** e.g. "1.6.20~ds1"; empty when unknown (reported as "Unknown"). */
  version: string;
}

/** The static part of what the Node reports: kubelet configuration and flags. */
export interface NodeConfig {
  nodeName: string;
  /** Value of the hostname label and Hostname address; default: HostFacts.hostname lower-cased. */
  hostname?: string;
  /** --node-ip (one, or two for dual-stack); default: the first of HostFacts.addresses. */
  nodeIPs?: string[];
  /** Default 110. */
  maxPods?: number;
  /** Default 0 (off). */
  podsPerCore?: number;
  kubeReserved?: ResourceReservation;
  systemReserved?: ResourceReservation;
  /** Pass the effective evictionHard (see DEFAULT_EVICTION_HARD); undefined reserves nothing. */
  evictionHard?: HardEvictionReservation;
  nodeLabels?: Record<string, string>;
  registerWithTaints?: Taint[];
  /** Default true. */
  registerSchedulable?: boolean;
  providerID?: string;
  /** Default 10250. */
  kubeletPort?: number;
  /** Default "v1.37.2". */
  kubeletVersion?: string;
  /** nodeStatusMaxImages; default 50, -1 = unlimited. */
  maxImages?: number;
  /** Default true: sets the controller-managed-attach-detach annotation. */
  enableControllerAttachDetach?: boolean;
}

export interface NodeImage {
  /** Digests first, then tags. */
  names: string[];
  sizeBytes: number;
  /** Image id: breaks ties between images of the same size, as upstream sorts. */
  id?: string;
}

type NodeRuntimeHandler = NonNullable<NodeStatus['runtimeHandlers']>[number];
type NodeFeatures = NonNullable<NodeStatus['features']>;
type NodeAddress = NonNullable<NodeStatus['addresses']>[number];

export interface NodeStatusInput {
  config: NodeConfig;
  facts: HostFacts;
  runtime: RuntimeInfo;
  health: RuntimeHealth;
  pressure: PressureFlags;
  /** Images on the node; undefined keeps what the previous status had. */
  images?: readonly NodeImage[];
  runtimeHandlers?: NodeRuntimeHandler[];
  features?: NodeFeatures;
  /** Swap capacity in bytes (nodeInfo.swap, NodeSwap); undefined leaves the field alone. */
  swapBytes?: number;
  now: number;
}

export interface NodeStatusResult {
  status: NodeStatus;
  /** Events for transitions seen while computing (NodeReady, NodeHasDiskPressure, Rebooted...). */
  events: NodeStatusEvent[];
}

const DEFAULT_KUBELET_VERSION = 'v1.37.2';

/** The hostname label/address value: the override, else the machine's hostname, lower-cased. */
export function nodeHostname(config: NodeConfig, facts: HostFacts): string {
  return (config.hostname ?? facts.hostname).toLowerCase();
}

function addresses(config: NodeConfig, facts: HostFacts): NodeAddress[] {
  const ips = config.nodeIPs && config.nodeIPs.length > 0 ? config.nodeIPs : facts.addresses.slice(0, 1);
  return [
    ...ips.map((address) => ({ type: 'InternalIP', address })),
    { type: 'Hostname', address: nodeHostname(config, facts) },
  ];
}

/** Extended resources (vendor-domain names) as upstream's IsExtendedResourceName, roughly. */
export function isExtendedResourceName(name: string): boolean {
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

const OWNED_RESOURCES = new Set(['cpu', 'memory', 'pods', 'ephemeral-storage']);

/** Capacity and allocatable per §7.2: capacity − (kubeReserved + systemReserved + hard eviction). */
function resources(
  prev: NodeStatus | undefined,
  config: NodeConfig,
  facts: HostFacts,
): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  // Like upstream, start from what is there so device-plugin resources are not wiped.
  const capacity: Record<string, string> = {};
  for (const [k, v] of Object.entries(prev?.capacity ?? {})) {
    if (!isHugePageResourceName(k)) capacity[k] = v;
  }
  const a = nodeAllocatable(config, facts);
  capacity.cpu = formatCpuMillis(a.capacityCpuMillis);
  capacity.memory = formatBinarySI(facts.memoryBytes);
  for (const [size, bytes] of Object.entries(facts.hugepages)) {
    capacity[`hugepages-${size}`] = formatBinarySI(bytes);
  }
  capacity.pods = formatDecimalSI(a.pods);
  capacity['ephemeral-storage'] = formatBinarySI(facts.ephemeralStorageBytes);

  const allocatable: Record<string, string> = {};
  for (const [k, v] of Object.entries(prev?.allocatable ?? {})) {
    if (k in capacity || !(isExtendedResourceName(k) || isHugePageResourceName(k))) allocatable[k] = v;
  }
  for (const [k, v] of Object.entries(capacity)) {
    // Device-plugin resources keep the allocatable their manager reported.
    if (!(k in allocatable) || OWNED_RESOURCES.has(k) || isHugePageResourceName(k)) allocatable[k] = v;
  }
  allocatable.cpu = formatCpuMillis(a.cpuMillis);
  allocatable.memory = formatBinarySI(a.memoryBytes);
  allocatable['ephemeral-storage'] = formatBinarySI(a.ephemeralBytes);
  return { capacity, allocatable };
}

/** Largest first (ties: higher id first), at most `max` (-1: all), at most 5 names each. */
export function nodeImages(images: readonly NodeImage[], max = 50): NonNullable<NodeStatus['images']> {
  const sorted = [...images].sort((a, b) => {
    if (a.sizeBytes !== b.sizeBytes) return b.sizeBytes - a.sizeBytes;
    const ai = a.id ?? '';
    const bi = b.id ?? '';
    return ai === bi ? 0 : ai > bi ? -1 : 1;
  });
  const kept = max > -1 ? sorted.slice(0, max) : sorted;
  return kept.map((img) => ({ names: img.names.slice(0, MAX_NAMES_PER_IMAGE), sizeBytes: img.sizeBytes }));
}

/**
 * The desired NodeStatus: `previous` (the status read from the apiserver, or undefined at
 * registration) with every field the kubelet owns recomputed. Foreign conditions and fields
 * (volumesAttached, NetworkUnavailable, ...) are kept as they were.
 */
export function buildNodeStatus(previous: NodeStatus | undefined, input: NodeStatusInput): NodeStatusResult {
  const { config, facts, now } = input;
  const nodeName = config.nodeName;
  const ts = rfc3339(now);
  const events: NodeStatusEvent[] = [];
  const status: NodeStatus = { ...(previous ?? {}) };

  status.addresses = addresses(config, facts);
  const { capacity, allocatable } = resources(previous, config, facts);
  status.capacity = capacity;
  status.allocatable = allocatable;

  const prevBoot = previous?.nodeInfo?.bootID ?? '';
  if (prevBoot !== '' && prevBoot !== facts.bootId) {
    events.push({
      type: 'Warning',
      reason: 'Rebooted',
      message: `Node ${nodeName} has been rebooted, boot id: ${facts.bootId}`,
    });
  }
  status.nodeInfo = {
    ...(previous?.nodeInfo ?? {}),
    machineID: facts.machineId,
    systemUUID: facts.systemUuid,
    bootID: facts.bootId,
    kernelVersion: facts.kernelVersion,
    osImage: facts.osImage,
    containerRuntimeVersion: `${input.runtime.name}://${input.runtime.version || 'Unknown'}`,
    kubeletVersion: config.kubeletVersion ?? DEFAULT_KUBELET_VERSION,
    // DisableNodeKubeProxyVersion is locked on since 1.36: the deprecated field stays empty.
    kubeProxyVersion: '',
    operatingSystem: facts.operatingSystem,
    architecture: facts.architecture,
  };
  if (input.swapBytes !== undefined) status.nodeInfo.swap = { capacity: input.swapBytes };
  status.daemonEndpoints = { kubeletEndpoint: { Port: config.kubeletPort ?? 10250 } };

  if (input.images) {
    const imgs = nodeImages(input.images, config.maxImages ?? 50);
    if (imgs.length > 0) status.images = imgs;
    else delete status.images;
  }
  if (input.runtimeHandlers) status.runtimeHandlers = input.runtimeHandlers;
  if (input.features) status.features = input.features;

  const conditions = (previous?.conditions ?? []).map((c) => ({ ...c }));
  for (const spec of PRESSURE_CONDITIONS) {
    const prev = conditions.find((c) => c.type === spec.type);
    upsert(conditions, pressureCondition(spec, prev, spec.pick(input.pressure), ts, nodeName, events));
  }
  const prevReady = conditions.find((c) => c.type === 'Ready');
  upsert(conditions, readyCondition(prevReady, input.health, capacity, ts, nodeName, events));
  status.conditions = conditions;
  return { status, events };
}

/** The labels of a new Node: the defaults, then --node-labels (which may override them). */
export function initialLabels(config: NodeConfig, facts: HostFacts): Record<string, string> {
  return {
    [LABEL_HOSTNAME]: nodeHostname(config, facts),
    [LABEL_OS]: facts.operatingSystem,
    [LABEL_ARCH]: facts.architecture,
    [LEGACY_LABEL_OS]: facts.operatingSystem,
    [LEGACY_LABEL_ARCH]: facts.architecture,
    ...(config.nodeLabels ?? {}),
  };
}

/** The Node to register (upstream initialNode): metadata, spec and a full first status. */
export function buildInitialNode(input: NodeStatusInput): { node: Node; events: NodeStatusEvent[] } {
  const { config, facts } = input;
  const unschedulable = !(config.registerSchedulable ?? true);
  const taints: Taint[] = [...(config.registerWithTaints ?? [])];
  if (unschedulable && !taints.some((t) => t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule')) {
    taints.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  }
  const { status, events } = buildNodeStatus(undefined, input);
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: config.nodeName,
      labels: initialLabels(config, facts),
      ...((config.enableControllerAttachDetach ?? true)
        ? { annotations: { [ANNOTATION_CMAD]: 'true' } }
        : {}),
    },
    spec: {
      ...(unschedulable ? { unschedulable: true } : {}),
      ...(taints.length > 0 ? { taints } : {}),
      ...(config.providerID ? { providerID: config.providerID } : {}),
    },
    status,
  };
  return { node, events };
}

function conditionsChanged(a: NodeCondition[] = [], b: NodeCondition[] = []): boolean {
  if (a.length !== b.length) return true;
  const byType = (x: NodeCondition, y: NodeCondition) => (x.type < y.type ? -1 : x.type > y.type ? 1 : 0);
  const as = [...a].sort(byType).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  const bs = [...b].sort(byType).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  return !semanticEqual(as, bs);
}

/** Resource lists compared by amount ("1Gi" equals "1073741824"), as equality.Semantic does. */
export function resourceListsEqual(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!sameQuantity(a[k], b[k])) return false;
  }
  return true;
}

/** Upstream nodeStatusHasChanged: anything but the conditions' heartbeat times differs. */
export function nodeStatusChanged(old: NodeStatus | undefined, next: NodeStatus | undefined): boolean {
  if (!old && !next) return false;
  if (!old || !next) return true;
  if (conditionsChanged(old.conditions, next.conditions)) return true;
  if (!resourceListsEqual(old.capacity, next.capacity)) return true;
  if (!resourceListsEqual(old.allocatable, next.allocatable)) return true;
  const rest = (s: NodeStatus) => ({
    ...s,
    conditions: undefined,
    capacity: undefined,
    allocatable: undefined,
  });
  return !semanticEqual(rest(old), rest(next));
}
