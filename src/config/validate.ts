/**
 * Range and cross-field checks on the resolved configuration, after upstream's
 * ValidateKubeletConfiguration (pkg/kubelet/apis/config/validation/validation.go), restricted to
 * the fields kubelet-ts has, plus a few of our own where a bad value would break a loop.
 */
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { ConfigIssue } from './errors.js';
import { nodeLabelErrors } from './labels.js';
import type { ResolvedConfig } from './types.js';

const ENFORCEMENTS_UPSTREAM = [
  'pods',
  'system-reserved',
  'system-reserved-compressible',
  'kube-reserved',
  'kube-reserved-compressible',
  'none',
];

function checkEnforceNodeAllocatable(
  c: ResolvedConfig,
  add: (path: string, value: unknown, msg: string) => void,
): void {
  const seen = new Set<string>();
  for (const value of c.enforceNodeAllocatable) {
    if (seen.has(value)) {
      add('enforceNodeAllocatable', value, `duplicated enforcement ${JSON.stringify(value)}`);
      continue;
    }
    seen.add(value);
    if (value === 'none') {
      if (c.enforceNodeAllocatable.length > 1) {
        add(
          'enforceNodeAllocatable',
          c.enforceNodeAllocatable,
          `may not contain additional enforcements when "none" is specified`,
        );
      }
      continue;
    }
    if (value !== 'pods') {
      add(
        'enforceNodeAllocatable',
        value,
        ENFORCEMENTS_UPSTREAM.includes(value)
          ? `enforcement ${JSON.stringify(value)} is not supported by kubelet-ts (supported: "pods", "none")`
          : `invalid option ${JSON.stringify(value)}; valid options are ${ENFORCEMENTS_UPSTREAM.map((e) => JSON.stringify(e)).join(', ')}`,
      );
      continue;
    }
    if (!c.cgroupsPerQOS)
      add('cgroupsPerQOS', false, 'must be true when "pods" is in enforceNodeAllocatable');
  }
}

/** Every problem with `c`, as issues (empty when valid). Pure. */
export function validateResolvedConfig(c: ResolvedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, value: unknown, message: string): void => {
    issues.push({ path, value, message });
  };
  const nonNegative = (path: string, value: number) => {
    if (value < 0) add(path, value, `${value} must not be a negative number`);
  };
  const port = (path: string, value: number, zeroAllowed: boolean) => {
    if ((value === 0 && zeroAllowed) || (Number.isInteger(value) && value >= 1 && value <= 65535)) return;
    add(
      path,
      value,
      `${value} must be between 1 and 65535, inclusive${zeroAllowed ? ' (or 0 to disable)' : ''}`,
    );
  };
  const positiveMs = (path: string, value: number) => {
    if (value <= 0) add(path, value, `must be greater than zero`);
  };
  const ip = (path: string, value: string) => {
    if (isIP(value) === 0) add(path, value, `${JSON.stringify(value)} is not a valid IP address`);
  };

  port('port', c.port, false);
  port('readOnlyPort', c.readOnlyPort, true);
  port('healthzPort', c.healthzPort, true);
  ip('address', c.address);
  ip('healthzBindAddress', c.healthzBindAddress);
  nonNegative('authentication.webhook.cacheTTL', c.authentication.webhook.cacheTTLMs);
  nonNegative('authorization.webhook.cacheAuthorizedTTL', c.authorization.webhook.cacheAuthorizedTTLMs);
  nonNegative('authorization.webhook.cacheUnauthorizedTTL', c.authorization.webhook.cacheUnauthorizedTTLMs);

  positiveMs('syncFrequency', c.syncFrequencyMs);
  positiveMs('fileCheckFrequency', c.fileCheckFrequencyMs);
  positiveMs('nodeStatusUpdateFrequency', c.nodeStatusUpdateFrequencyMs);
  positiveMs('nodeStatusReportFrequency', c.nodeStatusReportFrequencyMs);
  positiveMs('runtimeRequestTimeout', c.runtimeRequestTimeoutMs);
  positiveMs('evictionPressureTransitionPeriod', c.evictionPressureTransitionPeriodMs);
  if (c.nodeLeaseDurationSeconds <= 0)
    add('nodeLeaseDurationSeconds', c.nodeLeaseDurationSeconds, 'must be greater than 0');
  if (c.nodeStatusMaxImages < -1)
    add('nodeStatusMaxImages', c.nodeStatusMaxImages, `${c.nodeStatusMaxImages} must be -1 or greater`);
  for (const message of nodeLabelErrors(c.nodeLabels)) add('nodeLabels', c.nodeLabels, message);

  nonNegative('maxPods', c.maxPods);
  nonNegative('podsPerCore', c.podsPerCore);
  for (const [i, entry] of c.clusterDNS.entries()) ip(`clusterDNS[${i}]`, entry);

  if (c.cpuCFSQuotaPeriodMs < 1 || c.cpuCFSQuotaPeriodMs > 1000) {
    add('cpuCFSQuotaPeriod', c.cpuCFSQuotaPeriodMs, 'must be between 1ms and 1s, inclusive');
  }
  checkEnforceNodeAllocatable(c, add);
  nonNegative('evictionMaxPodGracePeriod', c.evictionMaxPodGracePeriodSeconds);

  for (const [path, value] of [
    ['imageGCHighThresholdPercent', c.imageGCHighThresholdPercent],
    ['imageGCLowThresholdPercent', c.imageGCLowThresholdPercent],
  ] as const) {
    if (value < 0 || value > 100) add(path, value, `${value} must be between 0 and 100, inclusive`);
  }
  if (c.imageGCLowThresholdPercent >= c.imageGCHighThresholdPercent) {
    add(
      'imageGCLowThresholdPercent',
      c.imageGCLowThresholdPercent,
      `${c.imageGCLowThresholdPercent} must be less than imageGCHighThresholdPercent ${c.imageGCHighThresholdPercent}`,
    );
  }
  nonNegative('imageMinimumGCAge', c.imageMinimumGCAgeMs);
  if (c.maxParallelImagePulls !== undefined && c.maxParallelImagePulls < 1) {
    add(
      'maxParallelImagePulls',
      c.maxParallelImagePulls,
      `${c.maxParallelImagePulls} must be a positive number`,
    );
  }
  if (c.serializeImagePulls && c.maxParallelImagePulls !== undefined && c.maxParallelImagePulls > 1) {
    add(
      'maxParallelImagePulls',
      c.maxParallelImagePulls,
      'cannot be larger than 1 unless serializeImagePulls is false',
    );
  }

  if (c.containerLogMaxFiles <= 1)
    add('containerLogMaxFiles', c.containerLogMaxFiles, 'must be greater than 1');
  if (c.containerLogMaxSizeBytes <= 0)
    add('containerLogMaxSize', c.containerLogMaxSizeBytes, 'must be greater than zero');
  if (!posix.isAbsolute(c.podLogsDir)) add('podLogsDir', c.podLogsDir, 'must be an absolute path');
  else if (posix.normalize(c.podLogsDir).replace(/(.)\/$/, '$1') !== c.podLogsDir) {
    add('podLogsDir', c.podLogsDir, 'must be normalized');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  if (/[^\x00-\x7f]/.test(c.podLogsDir))
    add('podLogsDir', c.podLogsDir, 'must contain ASCII characters only');
  if (c.containerRuntimeEndpoint === '') add('containerRuntimeEndpoint', '', 'must not be empty');

  nonNegative('eventRecordQPS', c.eventRecordQPS);
  nonNegative('eventBurst', c.eventBurst);
  nonNegative('kubeAPIQPS', c.kubeAPIQPS);
  nonNegative('kubeAPIBurst', c.kubeAPIBurst);

  if (c.shutdownGracePeriodMs < 0 || (c.shutdownGracePeriodMs > 0 && c.shutdownGracePeriodMs < 1000)) {
    add('shutdownGracePeriod', c.shutdownGracePeriodMs, 'must be either zero or otherwise >= 1 sec');
  }
  const backoff = c.crashLoopBackOffMaxContainerRestartPeriodMs;
  if (backoff < 1000 || backoff > 300_000) {
    add(
      'crashLoopBackOff.maxContainerRestartPeriod',
      backoff,
      `(got: ${backoff / 1000} seconds) must be set between 1s and 300s`,
    );
  }
  return issues;
}
