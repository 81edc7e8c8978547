export { CgroupFs, type CgroupFsOptions } from './cgroupfs.js';
export {
  CGROUP2_SUPER_MAGIC,
  type CgroupHost,
  type CgroupMode,
  cgroupModeFromMounts,
  DEFAULT_CGROUP_ROOT,
  detectCgroups,
  parseMountInfo,
  systemdBooted,
} from './detect.js';
export {
  CgroupManager,
  type CgroupManagerOptions,
  type PodCgroup,
  QOS_UPDATE_INTERVAL_MS,
} from './manager.js';
export * from './names.js';
export { type SystemdUnits, systemctlUnits } from './systemd.js';
export * from './values.js';
