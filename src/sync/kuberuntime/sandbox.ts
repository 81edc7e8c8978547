import { mkdir, readFile } from 'node:fs/promises';
import { podRef } from '../../api/pod.js';
import type { Pod } from '../../api/types.js';
import { runtimeErrorMessage } from '../../cri/errors.js';
import type { PodSandboxConfig } from '../../cri/types.js';
import { hostsFileContent, nodeHostsFileContent, writeHostsFile } from '../containerFiles.js';
import { buildSandboxConfig, podLogDir } from '../criConfig.js';
import { podDnsConfig } from '../dns.js';
import { SyncError } from '../errors.js';
import {
  generatePodHostNameAndDomain,
  getNodenameForKernel,
  type PodHostnameAndDomain,
} from '../hostname.js';
import { PRIORITY_SANDBOX, type SyncerConfig, type SyncerDeps, type SyncResult } from './types.js';

export interface SandboxPlan {
  config: PodSandboxConfig;
  names: PodHostnameAndDomain;
  warnings: { reason: string; message: string }[];
}

/**
 * The pod's sandbox config (upstream generatePodSandboxConfig) and its hostname and domain;
 * throws a SyncError (CreatePodSandboxError) when the hostname cannot be made.
 */
export function sandboxConfig(config: SyncerConfig, pod: Pod, attempt: number): SandboxPlan {
  const names = generatePodHostNameAndDomain(pod, config.clusterDomain);
  const hostname = pod.spec?.hostNetwork
    ? ''
    : getNodenameForKernel(names.hostname, names.hostDomain, pod.spec?.setHostnameAsFQDN);
  const dns = podDnsConfig(pod, config.dns);
  return {
    config: buildSandboxConfig({
      pod,
      attempt,
      podLogsDir: config.podLogsDir,
      dns: dns.config,
      cgroupParent: config.cgroupParent(pod),
      hostname,
    }),
    names,
    warnings: dns.warnings,
  };
}

/** The pod sandbox and its /etc/hosts (upstream kuberuntime_sandbox.go createPodSandbox). */
export class Sandboxes {
  private readonly d: Pick<SyncerDeps, 'cri' | 'events' | 'criLimiter' | 'config' | 'volumes' | 'hostIPs'>;

  constructor(d: Pick<SyncerDeps, 'cri' | 'events' | 'criLimiter' | 'config' | 'volumes' | 'hostIPs'>) {
    this.d = d;
  }

  /**
   * Creates the sandbox and reads its IPs; on failure records the event and the error in
   * `result` and returns undefined.
   */
  async create(
    pod: Pod,
    plan: SandboxPlan,
    result: SyncResult,
    signal: AbortSignal,
  ): Promise<{ sandboxId: string; podIPs: string[] } | undefined> {
    for (const w of plan.warnings) this.d.events.event(podRef(pod), 'Warning', w.reason, w.message);
    let sandboxId: string;
    try {
      // Upstream createPodSandbox: a log directory it cannot make fails the sandbox.
      await mkdir(plan.config.logDirectory ?? podLogDir(this.d.config.podLogsDir, pod), {
        recursive: true,
        mode: 0o755,
      });
      const res = await this.d.criLimiter.run(
        () =>
          this.d.cri.runPodSandbox(
            { config: plan.config, runtimeHandler: pod.spec?.runtimeClassName ?? '' },
            { signal },
          ),
        signal,
        PRIORITY_SANDBOX,
      );
      sandboxId = res.podSandboxId;
    } catch (err) {
      const msg = `Failed to create pod sandbox: ${runtimeErrorMessage(err)}`;
      this.d.events.event(podRef(pod), 'Warning', 'FailedCreatePodSandBox', msg);
      result.errors.push(new SyncError('CreatePodSandboxError', msg));
      return undefined;
    }
    result.changed = true;
    try {
      const st = (await this.d.cri.podSandboxStatus(sandboxId, false, { signal })).status;
      const net = st?.network;
      return { sandboxId, podIPs: net?.ip ? [net.ip, ...net.additionalIps.map((x) => x.ip)] : [] };
    } catch (err) {
      const msg = `Unable to get pod sandbox status: ${runtimeErrorMessage(err)}`;
      this.d.events.event(podRef(pod), 'Warning', 'FailedPodSandBoxStatus', msg);
      result.errors.push(new SyncError('FailedPodSandBoxStatus', msg));
      return undefined;
    }
  }

  /** Writes the pod's managed /etc/hosts (upstream ensureHostsFile); '' when there is none yet. */
  async writeHosts(pod: Pod, podIPs: readonly string[], names: PodHostnameAndDomain): Promise<string> {
    const podDir = this.d.volumes.podDir(pod.metadata?.uid ?? '');
    if (pod.spec?.hostNetwork) {
      const nodeHosts = await readFile('/etc/hosts', 'utf8').catch(() => '');
      return writeHostsFile(podDir, nodeHostsFileContent(pod, nodeHosts));
    }
    if (podIPs.length === 0) return '';
    return writeHostsFile(podDir, hostsFileContent(pod, [...podIPs], names.hostname, names.hostDomain));
  }
}
