/**
 * Pods driven straight through the CRI, with no kubelet in between: the configs, a parallel
 * batch (RunPodSandbox + CreateContainer + StartContainer per pod) and the clean-up. Shared by
 * bench/cri-floor and bench/pod-startup (its "floor" row).
 */
import { join } from 'node:path';
import type { CriClient } from '../../src/cri/client.js';
import type { ContainerConfig, PodSandboxConfig } from '../../src/cri/types.js';

/** The local test image every benchmark pod runs (hack/images.sh imports it). */
export const BENCH_IMAGE = 'localhost:5999/kubelet-ts/busybox:1.36';
/** Label on every sandbox and container a CRI benchmark creates: its run id. */
export const RUN_LABEL = 'kubelet-ts.io/bench-run';

export interface CriPodFactory {
  /** A fresh sandbox config: name `<prefix>-<phase>-<seq>`, its own log directory. */
  sandbox(phase: string): PodSandboxConfig;
  /** The container config of a pod; logs to `main/0.log` under the sandbox's log directory. */
  container(command: readonly string[]): ContainerConfig;
}

/**
 * Configs shaped like a kubelet's for a BestEffort pod with one container: own PID namespace
 * per container, a hostname, a log directory under `logRoot`, and the run label.
 */
export function criPodFactory(runId: string, logRoot: string, prefix = 'floor'): CriPodFactory {
  let seq = 0;
  return {
    sandbox(phase) {
      seq += 1;
      const name = `${prefix}-${phase}-${seq}`;
      return {
        metadata: { name, namespace: 'bench', uid: `${runId}-${name}`, attempt: 0 },
        hostname: name,
        logDirectory: join(logRoot, name),
        labels: { [RUN_LABEL]: runId },
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } },
      };
    },
    container(command) {
      return {
        metadata: { name: 'main', attempt: 0 },
        image: { image: BENCH_IMAGE },
        command: [...command],
        logPath: 'main/0.log',
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' as const } } },
        labels: { [RUN_LABEL]: runId },
      };
    },
  };
}

export interface ParallelBatch {
  /** Per pod: ms from the batch start until its StartContainer returned. */
  readonly toRunning: number[];
  /** ms from the batch start until the last pod's StartContainer returned. */
  readonly wallMs: number;
}

/** Runs every sandbox at once: RunPodSandbox, then CreateContainer and StartContainer of `command`. */
export async function runParallelBatch(
  client: CriClient,
  pods: CriPodFactory,
  configs: readonly PodSandboxConfig[],
  command: readonly string[],
): Promise<ParallelBatch> {
  const t0 = performance.now();
  const toRunning = await Promise.all(
    configs.map(async (config) => {
      const { podSandboxId } = await client.runPodSandbox({ config });
      const id = await client.createContainer({
        podSandboxId,
        sandboxConfig: config,
        config: pods.container(command),
      });
      await client.startContainer(id);
      return performance.now() - t0;
    }),
  );
  return { toRunning, wallMs: performance.now() - t0 };
}

/**
 * Stops and removes every sandbox (and so its containers) carrying the run label `runId`, or
 * every sandbox of the runtime when `runId` is undefined (only for a runtime the caller owns).
 * Returns how many it removed.
 */
export async function removeSandboxes(client: CriClient, runId?: string): Promise<number> {
  const pods = await client.listPodSandbox(runId ? { labelSelector: { [RUN_LABEL]: runId } } : undefined);
  await Promise.all(
    pods.map(async (p) => {
      await client.stopPodSandbox(p.id);
      await client.removePodSandbox(p.id);
    }),
  );
  return pods.length;
}

/** What still runs in a runtime: READY sandboxes and RUNNING containers. */
export async function runtimeActivity(client: CriClient): Promise<{ sandboxes: number; containers: number }> {
  const [sandboxes, containers] = await Promise.all([
    client.listPodSandbox({ state: { state: 'SANDBOX_READY' } }),
    client.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
  ]);
  return { sandboxes: sandboxes.length, containers: containers.length };
}

/** Fails with a clear message when the benchmark image is not in the runtime. */
export async function requireImage(client: CriClient, image = BENCH_IMAGE): Promise<void> {
  if (!(await client.imageStatus(image))) {
    throw new Error(`${image} is not present in the runtime: run hack/containerd.sh up (it imports it)`);
  }
}
