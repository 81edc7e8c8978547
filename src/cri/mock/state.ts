import { join } from 'node:path';
import type { ContainerConfig__Output } from '../gen/runtime/v1/ContainerConfig.js';
import type { LinuxContainerResources } from '../gen/runtime/v1/LinuxContainerResources.js';
import type { PodSandboxConfig__Output } from '../gen/runtime/v1/PodSandboxConfig.js';
import { type CompiledProgram, type ContainerProgram, compileProgram } from './behaviours.js';
import { newId, nowNs } from './clock.js';
import { notFound, unknown } from './errors.js';
import { EventHub } from './events.js';
import { resolveId } from './filters.js';
import type { ImageRecord, ImageStore } from './images.js';
import { IpPool } from './ip-pool.js';
import { CriLogWriter } from './logs.js';
import type { ContainerView, RuleList } from './matchers.js';
import { ScriptProcess } from './process.js';
import { compileArgv, type Env } from './programs.js';
import { raceTimeout } from './wait.js';

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';

export interface SandboxRecord {
  readonly id: string;
  readonly config: PodSandboxConfig__Output;
  readonly runtimeHandler: string;
  readonly createdAt: bigint;
  readonly nameKey: string;
  state: SandboxState;
  ip: string;
}

export interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig__Output;
  readonly image: ImageRecord;
  readonly createdAt: bigint;
  readonly nameKey: string;
  /** Absolute log path (sandbox log_directory + log_path), or '' when either is empty. */
  readonly logPath: string;
  readonly view: ContainerView;
  readonly env: Env;
  state: ContainerStateName;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  resources: LinuxContainerResources | null;
  process: ScriptProcess | null;
  /** Resolves once the running process's exit has been recorded. */
  exitRecorded: Promise<void>;
  oomKilled: boolean;
  /** Running ExecSync calls, aborted when the container exits. */
  readonly execs: Set<AbortController>;
}

export type ContainerEventType =
  | 'CONTAINER_CREATED_EVENT'
  | 'CONTAINER_STARTED_EVENT'
  | 'CONTAINER_STOPPED_EVENT'
  | 'CONTAINER_DELETED_EVENT';

export interface RuntimeEvent {
  readonly type: ContainerEventType;
  readonly container: ContainerRecord;
  readonly sandbox: SandboxRecord;
  readonly at: bigint;
}

export interface RuntimeStateDeps {
  images: ImageStore;
  programs: RuleList<ContainerProgram>;
}

// containerd's messages, verified against containerd 1.6.20.
const containerNotFound = (id: string) =>
  notFound(`an error occurred when try to find container "${id}": not found`);
const sandboxNotFound = (id: string) =>
  notFound(`an error occurred when try to find sandbox "${id}": not found`);

/**
 * The mock runtime's sandboxes and containers and their state machine, with containerd 1.6's
 * semantics (verified by experiment): Stop/Remove of unknown containers and sandboxes — Remove
 * succeeds, Stop is NotFound; stopping a created container is a no-op; RemovePodSandbox of a
 * ready sandbox force-stops it; StopPodSandbox SIGKILLs its containers (exit 137).
 */
export class RuntimeState {
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  readonly events = new EventHub<RuntimeEvent>();
  private readonly names = new Map<string, string>();
  private readonly ips = new IpPool();
  private readonly deps: RuntimeStateDeps;

  constructor(deps: RuntimeStateDeps) {
    this.deps = deps;
  }

  // ---- sandboxes --------------------------------------------------------------------------------

  runPodSandbox(config: PodSandboxConfig__Output, runtimeHandler: string): SandboxRecord {
    const md = config.metadata;
    if (!md?.name || !md.namespace || !md.uid) {
      throw unknown('sandbox config must include metadata with name, namespace and uid');
    }
    const nameKey = `${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
    const id = newId();
    this.reserveName('sandbox', nameKey, id);
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const sandbox: SandboxRecord = {
      id,
      config,
      runtimeHandler,
      createdAt: nowNs(),
      nameKey,
      state: 'SANDBOX_READY',
      ip: hostNetwork ? '' : this.ips.allocate(),
    };
    this.sandboxes.set(id, sandbox);
    return sandbox;
  }

  /** The sandbox, by id or unique prefix; NotFound with `message(id)` otherwise. */
  sandbox(id: string, message = sandboxNotFound): SandboxRecord {
    const full = resolveId(this.sandboxes.keys(), id);
    const s = full === undefined ? undefined : this.sandboxes.get(full);
    if (!s) throw message(id);
    return s;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sandbox = this.sandbox(id);
    await Promise.all(this.containersOf(sandbox.id).map((c) => this.kill(c)));
    if (sandbox.state === 'SANDBOX_READY') {
      sandbox.state = 'SANDBOX_NOTREADY';
      if (sandbox.ip) this.ips.release(sandbox.ip);
      sandbox.ip = '';
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    const full = resolveId(this.sandboxes.keys(), id);
    const sandbox = full === undefined ? undefined : this.sandboxes.get(full);
    if (!sandbox) return;
    await this.stopPodSandbox(sandbox.id);
    for (const c of this.containersOf(sandbox.id)) this.deleteContainer(c);
    this.sandboxes.delete(sandbox.id);
    this.names.delete(sandbox.nameKey);
  }

  containersOf(sandboxId: string): ContainerRecord[] {
    return [...this.containers.values()].filter((c) => c.sandboxId === sandboxId);
  }

  // ---- containers -------------------------------------------------------------------------------

  createContainer(
    sandboxId: string,
    config: ContainerConfig__Output,
    sandboxConfig: PodSandboxConfig__Output | null,
  ): ContainerRecord {
    const sandbox = this.sandbox(sandboxId, (sid) =>
      notFound(`failed to find sandbox id "${sid}": not found`),
    );
    if (sandbox.state !== 'SANDBOX_READY') {
      throw notFound(
        `failed to get sandbox container task: no running task found: task ${sandbox.id} not found: not found`,
      );
    }
    const name = config.metadata?.name;
    if (!name) throw unknown('container config must include metadata');
    const imageName = config.image?.image ?? '';
    const image = this.deps.images.find(imageName);
    if (!image) throw notFound(`failed to resolve image "${imageName}": not found`);
    const sbMeta = sandbox.config.metadata;
    const attempt = config.metadata?.attempt ?? 0;
    const nameKey = `${name}_${sbMeta?.name}_${sbMeta?.namespace}_${sbMeta?.uid}_${attempt}`;
    const id = newId();
    this.reserveName('container', nameKey, id);
    const logDir = sandboxConfig?.logDirectory || sandbox.config.logDirectory;
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: sandbox.config.hostname,
    };
    for (const kv of config.envs) env[kv.key] = Buffer.from(kv.value).toString('utf8');
    const c: ContainerRecord = {
      id,
      sandboxId: sandbox.id,
      config,
      image,
      createdAt: nowNs(),
      nameKey,
      logPath: logDir && config.logPath ? join(logDir, config.logPath) : '',
      view: {
        id,
        name,
        attempt,
        sandboxId: sandbox.id,
        podName: sbMeta?.name ?? '',
        podNamespace: sbMeta?.namespace ?? '',
        podUid: sbMeta?.uid ?? '',
        image: imageName,
        command: config.command,
        args: config.args,
        labels: config.labels,
        annotations: config.annotations,
      },
      env,
      state: 'CONTAINER_CREATED',
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      resources: config.linux?.resources ?? null,
      process: null,
      exitRecorded: Promise.resolve(),
      oomKilled: false,
      execs: new Set(),
    };
    this.containers.set(id, c);
    this.emit('CONTAINER_CREATED_EVENT', c);
    return c;
  }

  /** The container, by id or unique prefix; NotFound with `message(id)` otherwise. */
  container(id: string, message = containerNotFound): ContainerRecord {
    if (!id) throw unknown(`an error occurred when try to find container "": Prefix can't be empty`);
    const full = resolveId(this.containers.keys(), id);
    const c = full === undefined ? undefined : this.containers.get(full);
    if (!c) throw message(id);
    return c;
  }

  startContainer(id: string): void {
    const c = this.container(id);
    if (c.state !== 'CONTAINER_CREATED') {
      throw unknown(`failed to set starting state for container "${c.id}": container is in ${c.state} state`);
    }
    const sandbox = this.sandbox(c.sandboxId);
    if (sandbox.state !== 'SANDBOX_READY') throw unknown(`sandbox container "${sandbox.id}" is not running`);
    const log = c.logPath ? new CriLogWriter(c.logPath) : null;
    const program = this.programFor(c);
    if (program.startError !== undefined) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${program.startError}: unknown`;
      c.state = 'CONTAINER_EXITED';
      c.finishedAt = nowNs();
      c.exitCode = 128;
      c.reason = 'StartError';
      c.message = message;
      this.emit('CONTAINER_STOPPED_EVENT', c);
      throw unknown(message);
    }
    const proc = new ScriptProcess(program.script, {
      pid1: c.config.linux?.securityContext?.namespaceOptions?.pid === 'CONTAINER',
      unknownCommands: 'run-forever',
      write: (stream, text) => log?.write(stream, text),
    });
    c.process = proc;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNs();
    c.exitRecorded = proc.exited.then(({ code }) => this.recordExit(c, proc, code));
    this.emit('CONTAINER_STARTED_EVENT', c);
    proc.start();
  }

  /** SIGTERM, then SIGKILL after `timeoutSeconds` (0: SIGKILL at once), as containerd does. */
  async stopContainer(id: string, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    const c = this.container(id);
    const proc = c.process;
    if (c.state !== 'CONTAINER_RUNNING' || !proc) return;
    if (timeoutSeconds > 0) {
      proc.signal('TERM');
      const outcome = await raceTimeout(c.exitRecorded, timeoutSeconds * 1000, signal);
      if (outcome.kind === 'done') return;
      if (outcome.kind === 'aborted') throw unknown('context canceled');
    }
    await this.kill(c);
  }

  async removeContainer(id: string): Promise<void> {
    const full = resolveId(this.containers.keys(), id);
    const c = full === undefined ? undefined : this.containers.get(full);
    if (!c) return;
    await this.kill(c);
    this.deleteContainer(c);
  }

  /** Ends a running container with `code` (reason Completed or Error). */
  exitContainer(id: string, code: number): void {
    const c = this.container(id);
    c.process?.exit(code);
  }

  /** Kills a running container as the OOM killer would: exit 137, reason OOMKilled. */
  oomKill(id: string): void {
    const c = this.container(id);
    if (!c.process) return;
    c.oomKilled = true;
    c.process.signal('KILL');
  }

  /** Kills every process (the mock is stopping); clears every timer they hold. */
  shutdown(): void {
    for (const c of this.containers.values()) {
      for (const ac of c.execs) ac.abort();
      c.process?.signal('KILL');
    }
    this.events.clear();
  }

  private async kill(c: ContainerRecord): Promise<void> {
    if (!c.process) return;
    c.process.signal('KILL');
    await c.exitRecorded;
  }

  private recordExit(c: ContainerRecord, proc: ScriptProcess, code: number): void {
    if (c.process !== proc) return;
    c.process = null;
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = nowNs();
    c.exitCode = code;
    c.reason = c.oomKilled ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error';
    for (const ac of c.execs) ac.abort();
    this.emit('CONTAINER_STOPPED_EVENT', c);
  }

  private deleteContainer(c: ContainerRecord): void {
    if (!this.containers.delete(c.id)) return;
    this.names.delete(c.nameKey);
    this.emit('CONTAINER_DELETED_EVENT', c);
  }

  private programFor(c: ContainerRecord): CompiledProgram {
    const override = this.deps.programs.find(c.view);
    if (override !== undefined) return compileProgram(override, c.env);
    const { command, args } = c.config;
    const argv =
      command.length > 0
        ? [...command, ...args]
        : [...c.image.entrypoint, ...(args.length ? args : c.image.cmd)];
    return { script: compileArgv(argv, c.env, c.config.stdin) };
  }

  private reserveName(kind: 'sandbox' | 'container', key: string, id: string): void {
    const owner = this.names.get(key);
    if (owner !== undefined) {
      throw unknown(`failed to reserve ${kind} name "${key}": name "${key}" is reserved for "${owner}"`);
    }
    this.names.set(key, id);
  }

  private emit(type: ContainerEventType, container: ContainerRecord): void {
    const sandbox = this.sandboxes.get(container.sandboxId);
    if (sandbox) this.events.emit({ type, container, sandbox, at: nowNs() });
  }
}
