import type { KubeEventRecorder } from '../api/events.js';
import type { RestClient } from '../api/rest.js';
import type { ResolvedConfig } from '../config/index.js';
import type { CriClient } from '../cri/client.js';
import { nodeRuntimeHealth, type RuntimeHealth } from '../cri/health.js';
import type { Pleg } from '../cri/pleg.js';
import type { NodePressure } from '../eviction/pressure.js';
import type { HostFacts } from '../host/types.js';
import { NodeLeaseController } from '../node/lease.js';
import { registerNode } from '../node/registration.js';
import { buildInitialNode, type NodeConfig } from '../node/setters.js';
import { NodeStatusUpdater } from '../node/statusUpdater.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface NodeInputs {
  cfg: ResolvedConfig;
  nodeConfig: NodeConfig;
  rest: RestClient;
  cri: CriClient;
  recorder: KubeEventRecorder;
  facts: HostFacts;
  health: RuntimeHealth;
  pleg: Pleg;
  pressure: NodePressure;
  log: Logger;
}

/** The node's runtime readiness now (runtime, network, PLEG), for the Ready condition and /healthz. */
export function runtimeReadiness(
  x: Pick<NodeInputs, 'health' | 'pleg'>,
): () => { ready: boolean; message: string } {
  return () => nodeRuntimeHealth(x.health.current, x.pleg.healthy());
}

/**
 * Registers the Node (retrying until it is accepted), then builds what keeps it current: the
 * status updater (which reacts at once to runtime health and pressure changes) and the Lease.
 * Resolves undefined when `signal` aborts or registration fails for good.
 */
export async function startNode(x: NodeInputs, signal: AbortSignal) {
  const { cfg, rest, recorder, log } = x;
  const runtime = () => ({
    name: x.health.current.runtimeName,
    version: x.health.current.version.replace(/^[^:]*:\/\//, ''),
  });
  const runtimeHealth = runtimeReadiness(x);
  const node = await registerNode({
    client: rest,
    build: () =>
      buildInitialNode({
        config: x.nodeConfig,
        facts: x.facts,
        runtime: runtime(),
        health: runtimeHealth(),
        pressure: { memory: false, disk: false, pid: false },
        now: Date.now(),
      }),
    recorder,
    log,
    signal,
  }).catch((err) => {
    if (!signal.aborted) log.fatal({ err: errorMessage(err) }, 'node registration failed');
    return undefined;
  });
  if (!node) return undefined;
  log.info({ node: cfg.nodeName, uid: node.metadata?.uid }, 'node registered');

  const statusUpdater = new NodeStatusUpdater({
    client: rest,
    config: x.nodeConfig,
    facts: () => x.facts,
    runtime,
    runtimeHealth,
    pressure: () => x.pressure.flags(),
    images: async () =>
      (await x.cri.listImages()).map((i) => ({
        names: [...i.repoDigests, ...i.repoTags],
        sizeBytes: Number(i.size),
        id: i.id,
      })),
    recorder,
    log,
    updateFrequencyMs: cfg.nodeStatusUpdateFrequencyMs,
    reportFrequencyMs: cfg.nodeStatusReportFrequencyMs,
  });
  x.health.subscribe(() => statusUpdater.updateNow());
  x.pressure.subscribe(() => statusUpdater.updateNow());
  const lease = new NodeLeaseController({
    client: rest,
    nodeName: cfg.nodeName,
    nodeUid: node.metadata?.uid,
    leaseDurationSeconds: cfg.nodeLeaseDurationSeconds,
    log,
  });
  return {
    labels: node.metadata?.labels ?? {},
    run: (s: AbortSignal): Promise<unknown>[] => [statusUpdater.run(s), lease.run(s)],
  };
}
