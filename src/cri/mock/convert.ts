import type { Container } from '../gen/runtime/v1/Container.js';
import type { ContainerEventResponse } from '../gen/runtime/v1/ContainerEventResponse.js';
import type { ContainerStatus } from '../gen/runtime/v1/ContainerStatus.js';
import type { PodSandbox } from '../gen/runtime/v1/PodSandbox.js';
import type { PodSandboxStatus } from '../gen/runtime/v1/PodSandboxStatus.js';
import type { ContainerRecord, RuntimeEvent, SandboxRecord } from './state.js';

// State records → CRI messages, shaped like containerd 1.6's answers.

export function toPodSandbox(s: SandboxRecord): PodSandbox {
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    createdAt: String(s.createdAt),
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtimeHandler: s.runtimeHandler,
  };
}

export function toPodSandboxStatus(s: SandboxRecord): PodSandboxStatus {
  const ns = s.config.linux?.securityContext?.namespaceOptions;
  return {
    ...toPodSandbox(s),
    network: { ip: s.ip, additionalIps: [] },
    linux: {
      namespaces: {
        options: {
          network: ns?.network ?? 'POD',
          pid: ns?.pid ?? 'POD',
          ipc: ns?.ipc ?? 'POD',
          targetId: ns?.targetId ?? '',
          usernsOptions: null,
        },
      },
    },
  };
}

export function toContainer(c: ContainerRecord): Container {
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: c.config.metadata,
    image: imageSpec(c),
    imageRef: c.image.id,
    state: c.state,
    createdAt: String(c.createdAt),
    labels: c.config.labels,
    annotations: c.config.annotations,
    imageId: '',
  };
}

export function toContainerStatus(c: ContainerRecord): ContainerStatus {
  return {
    id: c.id,
    metadata: c.config.metadata,
    state: c.state,
    createdAt: String(c.createdAt),
    startedAt: String(c.startedAt),
    finishedAt: String(c.finishedAt),
    exitCode: c.exitCode,
    image: imageSpec(c),
    imageRef: c.image.id,
    reason: c.reason,
    message: c.message,
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    logPath: c.logPath,
    resources: c.resources ? { linux: c.resources } : null,
    imageId: '',
    user: null,
    stopSignal: 'SIGNAL_RUNTIME_DEFAULT',
  };
}

export function toContainerEvent(
  ev: RuntimeEvent,
  siblings: readonly ContainerRecord[],
): ContainerEventResponse {
  return {
    containerId: ev.container.id,
    containerEventType: ev.type,
    createdAt: String(ev.at),
    podSandboxStatus: toPodSandboxStatus(ev.sandbox),
    containersStatuses: siblings.map(toContainerStatus),
  };
}

// Like containerd 1.6 (containerStatus): the spec reports the image's first repo tag when the
// image is known, not the reference (often the image ID) the container was created with.
function imageSpec(c: ContainerRecord) {
  return {
    image: c.image.repoTags[0] ?? c.config.image?.image ?? '',
    annotations: c.config.image?.annotations ?? {},
    userSpecifiedImage: '',
    runtimeHandler: '',
    imageRef: '',
  };
}
