export {
  type EvictionEventSink,
  type EvictionKill,
  EvictionManager,
  type EvictionManagerOptions,
  type EvictionRecord,
  IMMEDIATE_EVICTION_GRACE_SECONDS,
  MONITORING_INTERVAL_MS,
  type PressureFlags,
} from './manager.js';
export * from './messages.js';
export { PressureMonitor, type PressureMonitorOptions, type TriggerReason } from './monitor.js';
export * from './ranking.js';
export * from './signals.js';
export { StatsCollector, type StatsCollectorOptions } from './stats.js';
export * from './thresholds.js';
export type * from './types.js';
