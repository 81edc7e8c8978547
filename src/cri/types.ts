// Friendly names for the generated CRI types. Code outside src/cri imports these, never gen/.
// `X` is what we send (permissive input type); `XOut` is what we receive (every field present).
export type {
  AttachResponse,
  AttachResponse__Output as AttachResponseOut,
} from './gen/runtime/v1/AttachResponse.js';
export type { AuthConfig, AuthConfig__Output as AuthConfigOut } from './gen/runtime/v1/AuthConfig.js';
export type { Capability, Capability__Output as CapabilityOut } from './gen/runtime/v1/Capability.js';
export type { Container, Container__Output as ContainerOut } from './gen/runtime/v1/Container.js';
export type {
  ContainerConfig,
  ContainerConfig__Output as ContainerConfigOut,
} from './gen/runtime/v1/ContainerConfig.js';
export type {
  ContainerEventResponse,
  ContainerEventResponse__Output as ContainerEventResponseOut,
} from './gen/runtime/v1/ContainerEventResponse.js';
export type { ContainerEventType__Output as ContainerEventTypeOut } from './gen/runtime/v1/ContainerEventType.js';
export { ContainerEventType } from './gen/runtime/v1/ContainerEventType.js';
export type {
  ContainerFilter,
  ContainerFilter__Output as ContainerFilterOut,
} from './gen/runtime/v1/ContainerFilter.js';
export type {
  ContainerMetadata,
  ContainerMetadata__Output as ContainerMetadataOut,
} from './gen/runtime/v1/ContainerMetadata.js';
export type {
  ContainerResources,
  ContainerResources__Output as ContainerResourcesOut,
} from './gen/runtime/v1/ContainerResources.js';
export type { ContainerState__Output as ContainerStateOut } from './gen/runtime/v1/ContainerState.js';
export { ContainerState } from './gen/runtime/v1/ContainerState.js';
export type {
  ContainerStats,
  ContainerStats__Output as ContainerStatsOut,
} from './gen/runtime/v1/ContainerStats.js';
export type {
  ContainerStatsFilter,
  ContainerStatsFilter__Output as ContainerStatsFilterOut,
} from './gen/runtime/v1/ContainerStatsFilter.js';
export type {
  ContainerStatus,
  ContainerStatus__Output as ContainerStatusOut,
} from './gen/runtime/v1/ContainerStatus.js';
export type {
  ContainerStatusResponse,
  ContainerStatusResponse__Output as ContainerStatusResponseOut,
} from './gen/runtime/v1/ContainerStatusResponse.js';
export type { CpuUsage, CpuUsage__Output as CpuUsageOut } from './gen/runtime/v1/CpuUsage.js';
export type { DNSConfig, DNSConfig__Output as DNSConfigOut } from './gen/runtime/v1/DNSConfig.js';
export type { ExecResponse, ExecResponse__Output as ExecResponseOut } from './gen/runtime/v1/ExecResponse.js';
export type {
  ExecSyncResponse,
  ExecSyncResponse__Output as ExecSyncResponseOut,
} from './gen/runtime/v1/ExecSyncResponse.js';
export type {
  FilesystemUsage,
  FilesystemUsage__Output as FilesystemUsageOut,
} from './gen/runtime/v1/FilesystemUsage.js';
export type { Image, Image__Output as ImageOut } from './gen/runtime/v1/Image.js';
export type { ImageFilter, ImageFilter__Output as ImageFilterOut } from './gen/runtime/v1/ImageFilter.js';
export type {
  ImageFsInfoResponse,
  ImageFsInfoResponse__Output as ImageFsInfoResponseOut,
} from './gen/runtime/v1/ImageFsInfoResponse.js';
export type { ImageSpec, ImageSpec__Output as ImageSpecOut } from './gen/runtime/v1/ImageSpec.js';
export type {
  ImageStatusResponse,
  ImageStatusResponse__Output as ImageStatusResponseOut,
} from './gen/runtime/v1/ImageStatusResponse.js';
export type { Int64Value, Int64Value__Output as Int64ValueOut } from './gen/runtime/v1/Int64Value.js';
export type { KeyValue, KeyValue__Output as KeyValueOut } from './gen/runtime/v1/KeyValue.js';
export type {
  LinuxContainerConfig,
  LinuxContainerConfig__Output as LinuxContainerConfigOut,
} from './gen/runtime/v1/LinuxContainerConfig.js';
export type {
  LinuxContainerResources,
  LinuxContainerResources__Output as LinuxContainerResourcesOut,
} from './gen/runtime/v1/LinuxContainerResources.js';
export type {
  LinuxContainerSecurityContext,
  LinuxContainerSecurityContext__Output as LinuxContainerSecurityContextOut,
} from './gen/runtime/v1/LinuxContainerSecurityContext.js';
export type {
  LinuxPodSandboxConfig,
  LinuxPodSandboxConfig__Output as LinuxPodSandboxConfigOut,
} from './gen/runtime/v1/LinuxPodSandboxConfig.js';
export type {
  LinuxSandboxSecurityContext,
  LinuxSandboxSecurityContext__Output as LinuxSandboxSecurityContextOut,
} from './gen/runtime/v1/LinuxSandboxSecurityContext.js';
export type { MemoryUsage, MemoryUsage__Output as MemoryUsageOut } from './gen/runtime/v1/MemoryUsage.js';
export type { Mount, Mount__Output as MountOut } from './gen/runtime/v1/Mount.js';
export type { MountPropagation__Output as MountPropagationOut } from './gen/runtime/v1/MountPropagation.js';
export { MountPropagation } from './gen/runtime/v1/MountPropagation.js';
export type { NamespaceMode__Output as NamespaceModeOut } from './gen/runtime/v1/NamespaceMode.js';
export { NamespaceMode } from './gen/runtime/v1/NamespaceMode.js';
export type {
  NamespaceOption,
  NamespaceOption__Output as NamespaceOptionOut,
} from './gen/runtime/v1/NamespaceOption.js';
export type { PodIP, PodIP__Output as PodIPOut } from './gen/runtime/v1/PodIP.js';
export type { PodSandbox, PodSandbox__Output as PodSandboxOut } from './gen/runtime/v1/PodSandbox.js';
export type {
  PodSandboxConfig,
  PodSandboxConfig__Output as PodSandboxConfigOut,
} from './gen/runtime/v1/PodSandboxConfig.js';
export type {
  PodSandboxFilter,
  PodSandboxFilter__Output as PodSandboxFilterOut,
} from './gen/runtime/v1/PodSandboxFilter.js';
export type {
  PodSandboxMetadata,
  PodSandboxMetadata__Output as PodSandboxMetadataOut,
} from './gen/runtime/v1/PodSandboxMetadata.js';
export type {
  PodSandboxNetworkStatus,
  PodSandboxNetworkStatus__Output as PodSandboxNetworkStatusOut,
} from './gen/runtime/v1/PodSandboxNetworkStatus.js';
export type { PodSandboxState__Output as PodSandboxStateOut } from './gen/runtime/v1/PodSandboxState.js';
export { PodSandboxState } from './gen/runtime/v1/PodSandboxState.js';
export type {
  PodSandboxStats,
  PodSandboxStats__Output as PodSandboxStatsOut,
} from './gen/runtime/v1/PodSandboxStats.js';
export type {
  PodSandboxStatsFilter,
  PodSandboxStatsFilter__Output as PodSandboxStatsFilterOut,
} from './gen/runtime/v1/PodSandboxStatsFilter.js';
export type {
  PodSandboxStatus,
  PodSandboxStatus__Output as PodSandboxStatusOut,
} from './gen/runtime/v1/PodSandboxStatus.js';
export type {
  PodSandboxStatusResponse,
  PodSandboxStatusResponse__Output as PodSandboxStatusResponseOut,
} from './gen/runtime/v1/PodSandboxStatusResponse.js';
export type {
  PortForwardResponse,
  PortForwardResponse__Output as PortForwardResponseOut,
} from './gen/runtime/v1/PortForwardResponse.js';
export type { PortMapping, PortMapping__Output as PortMappingOut } from './gen/runtime/v1/PortMapping.js';
export type { Protocol__Output as ProtocolOut } from './gen/runtime/v1/Protocol.js';
export { Protocol } from './gen/runtime/v1/Protocol.js';
export type {
  RuntimeCondition,
  RuntimeCondition__Output as RuntimeConditionOut,
} from './gen/runtime/v1/RuntimeCondition.js';
export type {
  RuntimeStatus,
  RuntimeStatus__Output as RuntimeStatusOut,
} from './gen/runtime/v1/RuntimeStatus.js';
export type {
  StatusResponse,
  StatusResponse__Output as StatusResponseOut,
} from './gen/runtime/v1/StatusResponse.js';
export type {
  VersionResponse,
  VersionResponse__Output as VersionResponseOut,
} from './gen/runtime/v1/VersionResponse.js';
