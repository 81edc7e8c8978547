import type { CriClient } from './client.js';
import { nanosToMs, sandboxReady, toContainerState } from './convert.js';
import { isCriNotFound } from './errors.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  type ContainerRuntimeStatus,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  type PodRuntimeStatus,
  type SandboxStatus,
} from './runtimeState.js';

/**
 * Reads the runtime's full view of one pod (upstream GetPodStatus): its sandboxes (with IPs)
 * and every container carrying the pod's UID label, with ContainerStatus details. A container
 * removed between list and status is skipped.
 */
export async function inspectPod(
  cri: CriClient,
  uid: string,
  previous: PodRuntimeStatus | undefined,
  signal?: AbortSignal,
): Promise<PodRuntimeStatus> {
  const selector = { labelSelector: { [LABEL_POD_UID]: uid } };
  const [sandboxItems, containerItems] = await Promise.all([
    cri.listPodSandbox(selector, { signal }),
    cri.listContainers(selector, { signal }),
  ]);
  const sortedSandboxes = [...sandboxItems].sort((x, y) =>
    BigInt(y.createdAt) > BigInt(x.createdAt) ? 1 : -1,
  );
  const sandboxes: SandboxStatus[] = [];
  let name = '';
  let namespace = '';
  for (const [i, sb] of sortedSandboxes.entries()) {
    name ||= sb.metadata?.name ?? sb.labels[LABEL_POD_NAME] ?? '';
    namespace ||= sb.metadata?.namespace ?? sb.labels[LABEL_POD_NAMESPACE] ?? '';
    let ips: string[] = [];
    let hostNetwork = false;
    const ready = sandboxReady(sb.state);
    // Only the newest sandbox's network matters (IPs and namespace mode drive plan decisions).
    if (i === 0) {
      try {
        const st = (await cri.podSandboxStatus(sb.id, false, { signal })).status;
        const net = st?.network;
        if (net?.ip) ips = [net.ip, ...net.additionalIps.map((x) => x.ip)].filter(Boolean);
        hostNetwork = st?.linux?.namespaces?.options?.network === 'NODE';
      } catch (err) {
        if (!isCriNotFound(err)) throw err;
      }
    }
    sandboxes.push({
      id: sb.id,
      attempt: sb.metadata?.attempt ?? 0,
      ready,
      createdAt: nanosToMs(sb.createdAt),
      ips,
      hostNetwork,
      labels: sb.labels,
      annotations: sb.annotations,
    });
  }

  const containers: ContainerRuntimeStatus[] = [];
  await Promise.all(
    containerItems.map(async (c) => {
      let st: Awaited<ReturnType<CriClient['containerStatus']>>['status'];
      try {
        st = (await cri.containerStatus(c.id, false, { signal })).status;
      } catch (err) {
        if (isCriNotFound(err)) return;
        throw err;
      }
      if (!st) return;
      name ||= c.labels[LABEL_POD_NAME] ?? '';
      namespace ||= c.labels[LABEL_POD_NAMESPACE] ?? '';
      containers.push({
        id: c.id,
        name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? '',
        podSandboxId: c.podSandboxId,
        state: toContainerState(st.state),
        createdAt: nanosToMs(st.createdAt),
        startedAt: nanosToMs(st.startedAt),
        finishedAt: nanosToMs(st.finishedAt),
        exitCode: st.exitCode,
        reason: st.reason,
        message: st.message,
        image: st.image?.image ?? '',
        imageRef: st.imageRef,
        hash: c.annotations[ANNOTATION_CONTAINER_HASH] ?? '',
        restartCount: Number.parseInt(c.annotations[ANNOTATION_RESTART_COUNT] ?? '0', 10) || 0,
        // containerd reports the absolute path (sandbox log_directory joined with log_path).
        logPath: st.logPath,
        terminationLogPath:
          st.mounts.find((m) => m.containerPath === c.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH])
            ?.hostPath ?? '',
        labels: c.labels,
        annotations: c.annotations,
      });
    }),
  );
  containers.sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1));

  // Keep the last known IPs while no ready sandbox reports any (upstream does the same).
  const newestReady = sandboxes.find((s) => s.ready);
  const ips = newestReady && newestReady.ips.length > 0 ? newestReady.ips : (previous?.ips ?? []);
  return { uid, name, namespace, sandboxes, containers, ips, observedAt: Date.now() };
}
