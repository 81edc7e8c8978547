import { appendFileSync } from 'node:fs';
import type { ContainerEventResponse } from '../gen/runtime/v1/ContainerEventResponse.js';
import type { GetEventsRequest__Output } from '../gen/runtime/v1/GetEventsRequest.js';
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition.js';
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService.js';
import type { ExecHandler, ExecResult, StatsSpec } from './behaviours.js';
import { newToken } from './clock.js';
import {
  toContainer,
  toContainerEvent,
  toContainerStatus,
  toPodSandbox,
  toPodSandboxStatus,
} from './convert.js';
import { notFound, unimplemented, unknown } from './errors.js';
import { execSync } from './exec.js';
import { idFilter, matchLabels } from './filters.js';
import type { RuleList } from './matchers.js';
import type { RuntimeMethod } from './methods.js';
import type { HandlerFactory } from './rpc.js';
import type { RuntimeState } from './state.js';
import { containerStats, sandboxStats } from './stats.js';

/** 'containerd-1.6' answers like containerd 1.6.20; 'full' adds the newer RPCs (events). */
export type MockProfile = 'containerd-1.6' | 'full';

export interface RuntimeServiceDeps {
  state: RuntimeState;
  rpc: HandlerFactory;
  profile: MockProfile;
  runtimeName: string;
  runtimeVersion: string;
  conditions: () => RuntimeCondition[];
  execHandlers: RuleList<ExecHandler>;
  stats: RuleList<StatsSpec>;
}

const STREAM_BASE = 'http://127.0.0.1:0';

/** The mock's RuntimeService. */
export function createRuntimeService(d: RuntimeServiceDeps): RuntimeServiceHandlers {
  const { state, rpc } = d;
  const statsOf = (id: string) => {
    const c = state.container(id, () => notFound('failed to find container: not found'));
    return containerStats(c, d.stats.find(c.view));
  };
  const running = (id: string, notFoundMessage: (id: string) => string, prefix = '') => {
    const c = state.container(id, (cid) => notFound(notFoundMessage(cid)));
    if (c.state !== 'CONTAINER_RUNNING') throw unknown(`${prefix}container is in ${c.state} state`);
    return c;
  };
  // containerd 1.6's own stubs say "not implemented"; RPCs newer than its proto are unknown.
  const notImplemented = (method: RuntimeMethod) =>
    rpc.unary(method, () => {
      throw unimplemented(`method ${method} not implemented`);
    });
  const newerThan16 = (method: RuntimeMethod) =>
    d.profile === 'full'
      ? notImplemented(method)
      : rpc.unary(method, () => {
          throw unimplemented(`unknown method ${method} for service runtime.v1.RuntimeService`);
        });
  const newerStream = (method: RuntimeMethod) =>
    rpc.serverStream(method, async () => {
      throw unimplemented(
        d.profile === 'full'
          ? `method ${method} not implemented`
          : `unknown method ${method} for service runtime.v1.RuntimeService`,
      );
    });

  return {
    Version: rpc.unary('Version', () => ({
      version: '0.1.0',
      runtimeName: d.runtimeName,
      runtimeVersion: d.runtimeVersion,
      runtimeApiVersion: 'v1',
    })),
    Status: rpc.unary('Status', () => ({
      status: { conditions: d.conditions() },
      info: {},
      runtimeHandlers: [],
      features: null,
    })),
    UpdateRuntimeConfig: rpc.unary('UpdateRuntimeConfig', () => ({})),

    RunPodSandbox: rpc.unary('RunPodSandbox', (req) => {
      if (!req.config) throw unknown('sandbox config must include metadata');
      return { podSandboxId: state.runPodSandbox(req.config, req.runtimeHandler).id };
    }),
    StopPodSandbox: rpc.unary('StopPodSandbox', async (req) => {
      await state.stopPodSandbox(req.podSandboxId);
      return {};
    }),
    RemovePodSandbox: rpc.unary('RemovePodSandbox', async (req) => {
      await state.removePodSandbox(req.podSandboxId);
      return {};
    }),
    PodSandboxStatus: rpc.unary('PodSandboxStatus', (req) => {
      const s = state.sandbox(req.podSandboxId, () =>
        notFound('an error occurred when try to find sandbox: not found'),
      );
      return { status: toPodSandboxStatus(s), info: {}, containersStatuses: [], timestamp: '0' };
    }),
    ListPodSandbox: rpc.unary('ListPodSandbox', (req) => {
      const f = req.filter;
      const idOk = idFilter(state.sandboxes.keys(), f?.id);
      const items = [...state.sandboxes.values()].filter(
        (s) =>
          idOk(s.id) &&
          (!f?.state || s.state === f.state.state) &&
          matchLabels(f?.labelSelector, s.config.labels),
      );
      return { items: items.map(toPodSandbox) };
    }),

    CreateContainer: rpc.unary('CreateContainer', (req) => {
      if (!req.config) throw unknown('container config must include metadata');
      return { containerId: state.createContainer(req.podSandboxId, req.config, req.sandboxConfig).id };
    }),
    StartContainer: rpc.unary('StartContainer', (req) => {
      state.startContainer(req.containerId);
      return {};
    }),
    StopContainer: rpc.unary('StopContainer', async (req, ctx) => {
      await state.stopContainer(req.containerId, Number(req.timeout), ctx.signal);
      return {};
    }),
    RemoveContainer: rpc.unary('RemoveContainer', async (req) => {
      await state.removeContainer(req.containerId);
      return {};
    }),
    ListContainers: rpc.unary('ListContainers', (req) => {
      const f = req.filter;
      const idOk = idFilter(state.containers.keys(), f?.id);
      const sbOk = idFilter(state.sandboxes.keys(), f?.podSandboxId);
      const containers = [...state.containers.values()].filter(
        (c) =>
          idOk(c.id) &&
          sbOk(c.sandboxId) &&
          (!f?.state || c.state === f.state.state) &&
          matchLabels(f?.labelSelector, c.config.labels),
      );
      return { containers: containers.map(toContainer) };
    }),
    ContainerStatus: rpc.unary('ContainerStatus', (req) => ({
      status: toContainerStatus(state.container(req.containerId)),
      info: {},
    })),
    UpdateContainerResources: rpc.unary('UpdateContainerResources', (req) => {
      const c = state.container(req.containerId);
      if (req.linux) c.resources = req.linux;
      return {};
    }),
    ReopenContainerLog: rpc.unary('ReopenContainerLog', (req) => {
      const c = state.container(req.containerId);
      if (c.state !== 'CONTAINER_RUNNING') throw unknown('container is not running');
      // Like containerd: the runtime opens a fresh file at the log path (the kubelet renamed the old one).
      if (c.logPath) appendFileSync(c.logPath, '');
      return {};
    }),

    ExecSync: rpc.unary('ExecSync', (req, ctx) => {
      const c = running(
        req.containerId,
        (id) => `failed to exec in container: failed to find container "${id}" in store: not found`,
        'failed to exec in container: ',
      );
      let scripted: ExecResult | undefined;
      for (const h of d.execHandlers.all(c.view)) {
        scripted = typeof h === 'function' ? h(req.cmd) : h;
        if (scripted) break;
      }
      return execSync(c, req.cmd, Number(req.timeout), scripted, ctx.signal);
    }),
    Exec: rpc.unary('Exec', (req) => {
      running(req.containerId, (id) => `failed to find container "${id}" in store: not found`);
      return { url: `${STREAM_BASE}/exec/${newToken()}` };
    }),
    Attach: rpc.unary('Attach', (req) => {
      running(req.containerId, (id) => `failed to find container "${id}" in store: not found`);
      return { url: `${STREAM_BASE}/attach/${newToken()}` };
    }),
    PortForward: rpc.unary('PortForward', (req) => {
      state.sandbox(req.podSandboxId, (id) => notFound(`failed to find sandbox "${id}" in store: not found`));
      return { url: `${STREAM_BASE}/portforward/${newToken()}` };
    }),

    ContainerStats: rpc.unary('ContainerStats', (req) => {
      const stats = statsOf(req.containerId);
      // containerd 1.6 has no task metrics for a container that is not running.
      if (!stats.cpu) throw unknown('unexpected metrics response: []');
      return { stats };
    }),
    ListContainerStats: rpc.unary('ListContainerStats', (req) => {
      const f = req.filter;
      const idOk = idFilter(state.containers.keys(), f?.id);
      const sbOk = idFilter(state.sandboxes.keys(), f?.podSandboxId);
      const stats = [...state.containers.values()]
        .filter((c) => idOk(c.id) && sbOk(c.sandboxId) && matchLabels(f?.labelSelector, c.config.labels))
        .map((c) => containerStats(c, d.stats.find(c.view)));
      return { stats };
    }),
    PodSandboxStats: rpc.unary('PodSandboxStats', (req) => {
      const s = state.sandbox(req.podSandboxId, () =>
        notFound('an error occurred when try to find sandbox: not found'),
      );
      return { stats: sandboxStatsOf(s.id) };
    }),
    ListPodSandboxStats: rpc.unary('ListPodSandboxStats', (req) => {
      const f = req.filter;
      const idOk = idFilter(state.sandboxes.keys(), f?.id);
      const stats = [...state.sandboxes.values()]
        .filter(
          (s) => s.state === 'SANDBOX_READY' && idOk(s.id) && matchLabels(f?.labelSelector, s.config.labels),
        )
        .map((s) => sandboxStatsOf(s.id));
      return { stats };
    }),

    GetContainerEvents: rpc.serverStream<GetEventsRequest__Output, ContainerEventResponse>(
      'GetContainerEvents',
      async (call, ctx) => {
        if (d.profile !== 'full') throw unimplemented('method GetContainerEvents not implemented');
        await new Promise<void>((resolve) => {
          const unsubscribe = state.events.subscribe((ev) => {
            call.write(toContainerEvent(ev, state.containersOf(ev.sandbox.id)));
          });
          const end = () => {
            unsubscribe();
            resolve();
          };
          if (ctx.signal.aborted) end();
          else ctx.signal.addEventListener('abort', end, { once: true });
        });
      },
    ),
    RuntimeConfig:
      d.profile === 'full'
        ? rpc.unary('RuntimeConfig', () => ({ linux: { cgroupDriver: 'CGROUPFS' } }))
        : newerThan16('RuntimeConfig'),
    CheckpointContainer: notImplemented('CheckpointContainer'),
    CheckpointPod: newerThan16('CheckpointPod'),
    RestorePod: newerThan16('RestorePod'),
    ListMetricDescriptors: newerThan16('ListMetricDescriptors'),
    ListPodSandboxMetrics: newerThan16('ListPodSandboxMetrics'),
    UpdatePodSandboxResources: newerThan16('UpdatePodSandboxResources'),
    StreamContainers: newerStream('StreamContainers'),
    StreamContainerStats: newerStream('StreamContainerStats'),
    StreamPodSandboxes: newerStream('StreamPodSandboxes'),
    StreamPodSandboxStats: newerStream('StreamPodSandboxStats'),
    StreamPodSandboxMetrics: newerStream('StreamPodSandboxMetrics'),
  };

  function sandboxStatsOf(sandboxId: string) {
    const s = state.sandbox(sandboxId);
    const containers = state
      .containersOf(s.id)
      .filter((c) => c.state === 'CONTAINER_RUNNING')
      .map((record) => ({ record, stats: containerStats(record, d.stats.find(record.view)) }));
    return sandboxStats(s, containers);
  }
}
