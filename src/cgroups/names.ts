/**
 * PURE: cgroup names as upstream builds them (pkg/kubelet/cm/cgroup_manager_linux.go,
 * qos_container_manager_linux.go, pod_container_manager_linux.go).
 *
 * A name is a list of components from the root ("internal" CgroupName upstream); each driver
 * spells it as a path below the cgroup2 mount:
 *   cgroupfs: ['kubepods','burstable','pod1-2'] → /kubepods/burstable/pod1-2
 *   systemd:  the same name → /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice
 */

export type CgroupDriver = 'cgroupfs' | 'systemd';
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Components from the root; [] is the root itself. */
export type CgroupName = readonly string[];

/** The node allocatable cgroup below cgroupRoot (upstream defaultNodeAllocatableCgroupName). */
export const NODE_ALLOCATABLE_CGROUP = 'kubepods';
export const POD_CGROUP_PREFIX = 'pod';
const SYSTEMD_SUFFIX = '.slice';

/** Upstream ParseCgroupfsToCgroupName: '/' and '' are the root. */
export function parseCgroupfsName(path: string): CgroupName {
  const parts = path.replace(/^\/+/, '').split('/');
  return parts.length === 1 && parts[0] === '' ? [] : parts;
}

/** Upstream CgroupName.ToCgroupfs. */
export function toCgroupfs(name: CgroupName): string {
  return `/${name.join('/')}`;
}

/** runc's systemd.ExpandSlice: 'a-b-c.slice' → '/a.slice/a-b.slice/a-b-c.slice'. */
export function expandSlice(slice: string): string {
  if (slice.length < SYSTEMD_SUFFIX.length || !slice.endsWith(SYSTEMD_SUFFIX) || slice.includes('/')) {
    throw new Error(`invalid slice name: ${slice}`);
  }
  const sliceName = slice.slice(0, -SYSTEMD_SUFFIX.length);
  if (sliceName === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of sliceName.split('-')) {
    if (component === '') throw new Error(`invalid slice name: ${slice}`);
    path += `/${prefix}${component}${SYSTEMD_SUFFIX}`;
    prefix += `${component}-`;
  }
  return path;
}

/** Upstream CgroupName.ToSystemd: '-' inside a component becomes '_', components join with '-'. */
export function toSystemd(name: CgroupName): string {
  if (name.length === 0 || (name.length === 1 && name[0] === '')) return '/';
  return expandSlice(`${name.map((p) => p.replaceAll('-', '_')).join('-')}${SYSTEMD_SUFFIX}`);
}

/** The systemd unit of a name: the last component of its expanded path ('kubepods-burstable.slice'). */
export function systemdUnit(name: CgroupName): string {
  const path = toSystemd(name);
  return path === '/' ? '-.slice' : (path.split('/').pop() ?? '');
}

/** Upstream cgroupCommon.Name: the driver's path below the cgroup mount (always starts with '/'). */
export function cgroupPath(name: CgroupName, driver: CgroupDriver): string {
  return driver === 'systemd' ? toSystemd(name) : toCgroupfs(name);
}

/** Upstream cgroupCommon.CgroupName: a driver path back to the internal name. */
export function parseCgroupPath(path: string, driver: CgroupDriver): CgroupName {
  if (driver === 'cgroupfs') return parseCgroupfsName(path);
  const base = path.split('/').pop() ?? '';
  return base
    .replace(/\.slice$/, '')
    .split('-')
    .map((p) => p.replaceAll('_', '-'));
}

export interface QOSCgroupNames {
  /** kubepods: the node allocatable cgroup, parent of Guaranteed pods. */
  guaranteed: CgroupName;
  burstable: CgroupName;
  besteffort: CgroupName;
}

/** The node allocatable cgroup for a cgroupRoot ('' and '/' are the root). */
export function nodeAllocatableCgroup(cgroupRoot: string): CgroupName {
  return [...parseCgroupfsName(cgroupRoot), NODE_ALLOCATABLE_CGROUP];
}

/** Upstream qosContainersInfo: kubepods, kubepods/burstable, kubepods/besteffort. */
export function qosCgroupNames(cgroupRoot: string): QOSCgroupNames {
  const kubepods = nodeAllocatableCgroup(cgroupRoot);
  return {
    guaranteed: kubepods,
    burstable: [...kubepods, 'burstable'],
    besteffort: [...kubepods, 'besteffort'],
  };
}

/** Upstream GetPodContainerName: pod<uid> below its QoS class's cgroup. */
export function podCgroupName(cgroupRoot: string, qos: QOSClass, uid: string): CgroupName {
  const q = qosCgroupNames(cgroupRoot);
  const parent = qos === 'Guaranteed' ? q.guaranteed : qos === 'Burstable' ? q.burstable : q.besteffort;
  return [...parent, `${POD_CGROUP_PREFIX}${uid}`];
}

/**
 * The pod UID a directory below a QoS cgroup belongs to (upstream GetAllPodsFromCgroups), or
 * undefined when it is not a pod cgroup ('burstable', 'besteffort', a container scope...).
 */
export function podUidFromCgroupDir(
  parentPath: string,
  dir: string,
  driver: CgroupDriver,
): string | undefined {
  const name = parseCgroupPath(`${parentPath.replace(/\/+$/, '')}/${dir}`, driver);
  const base = name[name.length - 1] ?? '';
  if (!base.includes(POD_CGROUP_PREFIX)) return undefined;
  const parts = base.split(POD_CGROUP_PREFIX);
  if (parts.length !== 2 || !parts[1]) return undefined;
  return parts[1];
}
