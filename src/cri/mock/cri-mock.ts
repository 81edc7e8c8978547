import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { RuntimeCondition } from '../gen/runtime/v1/RuntimeCondition.js';
import type { ContainerProgram, ExecHandler, StatsSpec } from './behaviours.js';
import { Faults, seededRandom } from './faults.js';
import { createImageService } from './image-service.js';
import { ImageStore, LOCAL_TEST_IMAGES, type MockImageSpec, type PullBehaviour } from './images.js';
import { Journal } from './journal.js';
import { type ContainerMatcher, type ContainerView, RuleList } from './matchers.js';
import type { CriMethod, CriRequest } from './methods.js';
import { handlerFactory } from './rpc.js';
import { createRuntimeService, type MockProfile } from './runtime-service.js';
import { close, listen } from './server.js';
import { RuntimeState } from './state.js';

export interface CriMockOptions {
  /** Default 'containerd-1.6': GetContainerEvents is UNIMPLEMENTED, as on containerd 1.6. */
  profile?: MockProfile;
  /** Version's runtime_name; default 'containerd'. */
  runtimeName?: string;
  /** Version's runtime_version; default '1.6.20~ds1-mock'. */
  runtimeVersion?: string;
  /** Where to listen; default a fresh temp dir (removed by stop()). */
  socketPath?: string;
  /** Images present at start; default the repo's local test images (pause, busybox, nonroot). */
  images?: readonly MockImageSpec[];
  /** Journal size; default 1000 calls. */
  journalLimit?: number;
  /** Seed of the fault injector's PRNG (errorRate); default 1. */
  seed?: number;
}

export type RuntimeConditionType = 'RuntimeReady' | 'NetworkReady';

/**
 * An in-process CRI runtime (RuntimeService + ImageService over grpc-js on a unix socket) that
 * behaves like containerd 1.6 where the contract suite (test/contract) checks it, with knobs for
 * what containerd cannot be made to do on demand: faults, hung pulls, OOM kills, scripted execs.
 */
export class CriMock {
  /** unix:///path/to.sock, for CriClient. */
  readonly endpoint: string;
  readonly socketPath: string;
  readonly profile: MockProfile;
  readonly faults: Faults;
  readonly journal: Journal;
  private readonly images: ImageStore;
  private readonly state: RuntimeState;
  private readonly programs = new RuleList<ContainerProgram>();
  private readonly execHandlers = new RuleList<ExecHandler>();
  private readonly statsRules = new RuleList<StatsSpec>();
  private readonly conditions = new Map<RuntimeConditionType, RuntimeCondition>([
    ['RuntimeReady', { type: 'RuntimeReady', status: true, reason: '', message: '' }],
    ['NetworkReady', { type: 'NetworkReady', status: true, reason: '', message: '' }],
  ]);
  private readonly lifetime = ((ac) => {
    // Every in-flight call listens on the mock's lifetime: hundreds at once is normal.
    setMaxListeners(0, ac.signal);
    return ac;
  })(new AbortController());
  private readonly ownedDir: string | undefined;
  private server: grpc.Server | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(opts: CriMockOptions, socketPath: string, ownedDir: string | undefined) {
    this.socketPath = socketPath;
    this.endpoint = `unix://${socketPath}`;
    this.ownedDir = ownedDir;
    this.profile = opts.profile ?? 'containerd-1.6';
    this.faults = new Faults(seededRandom(opts.seed ?? 1));
    this.journal = new Journal(opts.journalLimit);
    this.images = new ImageStore();
    for (const img of opts.images ?? LOCAL_TEST_IMAGES) this.images.add(img);
    this.state = new RuntimeState({ images: this.images, programs: this.programs });
  }

  /** Starts a mock listening on `socketPath` (or a socket in a new temp dir). */
  static async start(opts: CriMockOptions = {}): Promise<CriMock> {
    const ownedDir = opts.socketPath ? undefined : await mkdtemp(join(tmpdir(), 'kubelet-ts-cri-mock-'));
    const socketPath = opts.socketPath ?? join(ownedDir ?? '', 'cri.sock');
    const mock = new CriMock(opts, socketPath, ownedDir);
    const rpc = handlerFactory({
      journal: mock.journal,
      faults: mock.faults,
      lifetime: mock.lifetime.signal,
    });
    const runtime = createRuntimeService({
      state: mock.state,
      rpc,
      profile: mock.profile,
      runtimeName: opts.runtimeName ?? 'containerd',
      runtimeVersion: opts.runtimeVersion ?? '1.6.20~ds1-mock',
      conditions: () => [...mock.conditions.values()],
      execHandlers: mock.execHandlers,
      stats: mock.statsRules,
    });
    try {
      mock.server = await listen(socketPath, runtime, createImageService(mock.images, rpc, mock.profile));
    } catch (err) {
      await mock.stop();
      throw err;
    }
    return mock;
  }

  /** Stops the server, kills every container process and clears every timer. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.lifetime.abort();
      this.state.shutdown();
      if (this.server) await close(this.server, this.socketPath);
      if (this.ownedDir) await rm(this.ownedDir, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  // ---- images -----------------------------------------------------------------------------------

  /** Makes an image present (ListImages/ImageStatus see it; containers can use it). */
  addImage(spec: MockImageSpec): void {
    this.images.add(spec);
  }

  removeImage(ref: string): void {
    this.images.remove(ref);
  }

  /** What PullImage of `ref` does from now on; null restores the default (hit if present). */
  setPullBehaviour(ref: string, behaviour: PullBehaviour | null): void {
    this.images.setPullBehaviour(ref, behaviour);
  }

  // ---- containers -------------------------------------------------------------------------------

  /** Overrides how matching containers behave when started; returns a remover. */
  program(matcher: ContainerMatcher, program: ContainerProgram): () => void {
    return this.programs.add(matcher, program);
  }

  /** Scripts ExecSync in matching containers; returns a remover. */
  onExec(matcher: ContainerMatcher, handler: ExecHandler): () => void {
    return this.execHandlers.add(matcher, handler);
  }

  /** Sets the stats matching containers report; returns a remover. */
  setStats(matcher: ContainerMatcher, stats: StatsSpec): () => void {
    return this.statsRules.add(matcher, stats);
  }

  /** Kills a running container as the OOM killer would (exit 137, reason OOMKilled). */
  oomKill(containerId: string): void {
    this.state.oomKill(containerId);
  }

  /** Makes a running container exit with `code` now (reason Completed or Error). */
  exitContainer(containerId: string, code: number): void {
    this.state.exitContainer(containerId, code);
  }

  /** Every container the mock has, as matchers see them. */
  containers(): ContainerView[] {
    return [...this.state.containers.values()].map((c) => c.view);
  }

  // ---- runtime ----------------------------------------------------------------------------------

  /** Sets a Status condition (e.g. NetworkReady false with a reason). */
  setCondition(type: RuntimeConditionType, ready: boolean, reason = '', message = ''): void {
    this.conditions.set(type, { type, status: ready, reason, message });
  }

  /** The requests of every recorded call of `method` (see `journal`). */
  calls<M extends CriMethod>(method: M): CriRequest<M>[] {
    return this.journal.calls(method);
  }
}
