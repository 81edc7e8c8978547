import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { onAbort } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { CriCancelledError, CriError, CriUnimplementedError, toCriError } from './errors.js';
import type { ImageServiceDefinition } from './gen/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from './gen/runtime/v1/RuntimeService.js';
import { loadCri } from './proto.js';

type ReqOf<D> = D extends MethodDefinition<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
type ResOf<D> =
  D extends MethodDefinition<infer _Req, infer _Res, infer _ReqOut, infer ResOut> ? ResOut : never;
type RuntimeMethod = keyof RuntimeServiceDefinition & string;
type ImageMethod = keyof ImageServiceDefinition & string;

export interface CallOptions {
  /** Cancels the call (gRPC CANCELLED) when it fires. */
  signal?: AbortSignal;
  /** Per-call deadline; 0 means none. Defaults to the client's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface CriClientOptions {
  /** e.g. unix:///run/containerd/containerd.sock (a bare path is accepted too). */
  endpoint: string;
  logger?: Logger;
  /** Default deadline of a call, like upstream's --runtime-request-timeout (2 min). */
  requestTimeoutMs?: number;
  /** Calls slower than this are logged at debug level. */
  slowCallMs?: number;
}

export const DEFAULT_CRI_ENDPOINT = 'unix:///run/containerd/containerd.sock';
const MiB = 1024 * 1024;

/** Normalizes a runtime endpoint to a grpc-js unix target. */
export function criTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:')) return `unix://${endpoint.slice('unix:'.length)}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new Error(
    `unsupported container runtime endpoint ${JSON.stringify(endpoint)}: want unix:///path/to.sock`,
  );
}

/**
 * A typed client for the CRI RuntimeService and ImageService on one channel. Every call has a
 * deadline, can be cancelled with an AbortSignal, and fails with a typed CriError. The channel
 * reconnects by itself after the runtime restarts (backoff capped at 5 s); calls made while it
 * is down fail fast with CriUnavailableError.
 */
export class CriClient {
  readonly endpoint: string;
  private readonly channel: grpc.Client;
  private readonly rtDef: RuntimeServiceDefinition;
  private readonly imgDef: ImageServiceDefinition;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly slowCallMs: number;

  constructor(opts: CriClientOptions) {
    this.endpoint = criTarget(opts.endpoint);
    this.log = opts.logger ?? silentLogger;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
    this.slowCallMs = opts.slowCallMs ?? 1_000;
    const { pkg } = loadCri();
    this.rtDef = pkg.runtime.v1.RuntimeService.service;
    this.imgDef = pkg.runtime.v1.ImageService.service;
    this.channel = new grpc.Client(this.endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * MiB,
      'grpc.max_send_message_length': 16 * MiB,
      // A local socket: pings buy little, and Go servers GOAWAY over-eager ones. Keep them rare.
      'grpc.keepalive_time_ms': 300_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
  }

  close(): void {
    this.channel.close();
  }

  /** Waits until the channel is connected (startup only), or throws CriUnavailableError. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.channel.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err) reject(toCriError({ code: grpc.status.UNAVAILABLE, details: err.message }, 'Connect'));
        else resolve();
      });
    });
  }

  // ---- RuntimeService -------------------------------------------------------------------------

  version(o?: CallOptions) {
    return this.rt('Version', { version: 'v1' }, o);
  }
  status(verbose = false, o?: CallOptions) {
    return this.rt('Status', { verbose }, o);
  }
  runPodSandbox(req: ReqOf<RuntimeServiceDefinition['RunPodSandbox']>, o?: CallOptions) {
    return this.rt('RunPodSandbox', req, o);
  }
  stopPodSandbox(podSandboxId: string, o?: CallOptions) {
    return this.rt('StopPodSandbox', { podSandboxId }, o);
  }
  removePodSandbox(podSandboxId: string, o?: CallOptions) {
    return this.rt('RemovePodSandbox', { podSandboxId }, o);
  }
  podSandboxStatus(podSandboxId: string, verbose = false, o?: CallOptions) {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose }, o);
  }
  async listPodSandbox(
    filter?: ReqOf<RuntimeServiceDefinition['ListPodSandbox']>['filter'],
    o?: CallOptions,
  ) {
    return (await this.rt('ListPodSandbox', { filter: filter ?? null }, o)).items;
  }
  async createContainer(req: ReqOf<RuntimeServiceDefinition['CreateContainer']>, o?: CallOptions) {
    return (await this.rt('CreateContainer', req, o)).containerId;
  }
  async startContainer(containerId: string, o?: CallOptions) {
    await this.rt('StartContainer', { containerId }, o);
  }
  /** SIGTERM (or the image's stop signal), SIGKILL after `timeoutSeconds`. */
  async stopContainer(containerId: string, timeoutSeconds: number, o?: CallOptions) {
    // The call must outlive the grace period it asks the runtime to wait.
    const timeoutMs = o?.timeoutMs ?? this.requestTimeoutMs + timeoutSeconds * 1000;
    await this.rt('StopContainer', { containerId, timeout: String(timeoutSeconds) }, { ...o, timeoutMs });
  }
  async removeContainer(containerId: string, o?: CallOptions) {
    await this.rt('RemoveContainer', { containerId }, o);
  }
  async listContainers(
    filter?: ReqOf<RuntimeServiceDefinition['ListContainers']>['filter'],
    o?: CallOptions,
  ) {
    return (await this.rt('ListContainers', { filter: filter ?? null }, o)).containers;
  }
  containerStatus(containerId: string, verbose = false, o?: CallOptions) {
    return this.rt('ContainerStatus', { containerId, verbose }, o);
  }
  /** Runs `cmd` in the container; `timeoutSeconds` 0 means no timeout (as in the CRI). */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number, o?: CallOptions) {
    const timeoutMs =
      o?.timeoutMs ?? (timeoutSeconds > 0 ? this.requestTimeoutMs + timeoutSeconds * 1000 : 0);
    return this.rt('ExecSync', { containerId, cmd, timeout: String(timeoutSeconds) }, { ...o, timeoutMs });
  }
  exec(req: ReqOf<RuntimeServiceDefinition['Exec']>, o?: CallOptions) {
    return this.rt('Exec', req, o);
  }
  attach(req: ReqOf<RuntimeServiceDefinition['Attach']>, o?: CallOptions) {
    return this.rt('Attach', req, o);
  }
  portForward(req: ReqOf<RuntimeServiceDefinition['PortForward']>, o?: CallOptions) {
    return this.rt('PortForward', req, o);
  }
  async containerStats(containerId: string, o?: CallOptions) {
    return (await this.rt('ContainerStats', { containerId }, o)).stats;
  }
  async listContainerStats(
    filter?: ReqOf<RuntimeServiceDefinition['ListContainerStats']>['filter'],
    o?: CallOptions,
  ) {
    return (await this.rt('ListContainerStats', { filter: filter ?? null }, o)).stats;
  }
  async listPodSandboxStats(
    filter?: ReqOf<RuntimeServiceDefinition['ListPodSandboxStats']>['filter'],
    o?: CallOptions,
  ) {
    return (await this.rt('ListPodSandboxStats', { filter: filter ?? null }, o)).stats;
  }
  async updateContainerResources(
    req: ReqOf<RuntimeServiceDefinition['UpdateContainerResources']>,
    o?: CallOptions,
  ) {
    await this.rt('UpdateContainerResources', req, o);
  }
  async reopenContainerLog(containerId: string, o?: CallOptions) {
    await this.rt('ReopenContainerLog', { containerId }, o);
  }

  /**
   * The runtime's container event stream. Ends when `signal` aborts. Throws CriUnimplementedError
   * on runtimes without it (containerd 1.6): the PLEG then falls back to relisting.
   */
  async *containerEvents(
    signal: AbortSignal,
  ): AsyncGenerator<ResOf<RuntimeServiceDefinition['GetContainerEvents']>> {
    const def = this.rtDef.GetContainerEvents;
    const call = this.channel.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      {},
      new grpc.Metadata(),
      {},
    );
    const detach = onAbort(signal, () => call.cancel());
    try {
      for await (const ev of call as AsyncIterable<ResOf<RuntimeServiceDefinition['GetContainerEvents']>>) {
        yield ev;
      }
    } catch (err) {
      const e = toCriError(err, 'GetContainerEvents');
      if (signal.aborted && e.kind === 'Cancelled') return;
      throw e;
    } finally {
      detach();
      call.cancel();
    }
  }

  // ---- ImageService ---------------------------------------------------------------------------

  async listImages(filter?: ReqOf<ImageServiceDefinition['ListImages']>['filter'], o?: CallOptions) {
    return (await this.img('ListImages', { filter: filter ?? null }, o)).images;
  }
  /** The image, or null when the runtime does not have it. */
  async imageStatus(image: string, o?: CallOptions) {
    return (await this.img('ImageStatus', { image: { image }, verbose: false }, o)).image;
  }
  /** Pulls an image; no deadline unless given (pulls are long), cancellable by signal. */
  async pullImage(req: ReqOf<ImageServiceDefinition['PullImage']>, o?: CallOptions) {
    return (await this.img('PullImage', req, { timeoutMs: 0, ...o })).imageRef;
  }
  async removeImage(image: string, o?: CallOptions) {
    await this.img('RemoveImage', { image: { image } }, o);
  }
  imageFsInfo(o?: CallOptions) {
    return this.img('ImageFsInfo', {}, o);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private rt<M extends RuntimeMethod>(
    method: M,
    req: ReqOf<RuntimeServiceDefinition[M]>,
    o?: CallOptions,
  ): Promise<ResOf<RuntimeServiceDefinition[M]>> {
    return this.unary(this.rtDef[method] as MethodDefinition<unknown, unknown>, method, req, o) as Promise<
      ResOf<RuntimeServiceDefinition[M]>
    >;
  }

  private img<M extends ImageMethod>(
    method: M,
    req: ReqOf<ImageServiceDefinition[M]>,
    o?: CallOptions,
  ): Promise<ResOf<ImageServiceDefinition[M]>> {
    return this.unary(this.imgDef[method] as MethodDefinition<unknown, unknown>, method, req, o) as Promise<
      ResOf<ImageServiceDefinition[M]>
    >;
  }

  private unary(def: MethodDefinition<unknown, unknown>, method: string, req: unknown, o?: CallOptions) {
    const timeoutMs = o?.timeoutMs ?? this.requestTimeoutMs;
    const signal = o?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new CriCancelledError('Cancelled', grpc.status.CANCELLED, method, 'aborted before start'),
      );
    }
    const started = performance.now();
    return new Promise<unknown>((resolve, reject) => {
      const callOpts: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
      let detach = () => {};
      const call = this.channel.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        new grpc.Metadata(),
        callOpts,
        (err, res) => {
          detach();
          const ms = performance.now() - started;
          if (ms >= this.slowCallMs) this.log.debug({ method, ms: Math.round(ms) }, 'slow CRI call');
          if (err) reject(toCriError(err, method));
          else resolve(res);
        },
      );
      detach = onAbort(signal, () => call.cancel());
    });
  }
}

export { CriError, CriUnimplementedError };
