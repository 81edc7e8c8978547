import type { Command, Script, Statement, Stream, TermAction } from './programs.js';

/** How a process ended: its exit code and, when a signal ended it, which. */
export interface ExitInfo {
  readonly code: number;
  readonly signal: 'TERM' | 'KILL' | null;
}

export interface ProcessOptions {
  /**
   * PID 1 of its PID namespace (a container with its own PID namespace): the kernel drops
   * signals whose action is the default, so SIGTERM does nothing unless the script trapped it.
   */
  pid1: boolean;
  /** What a command the mock cannot model does: a container's runs until killed, an exec's exits 0. */
  unknownCommands: 'run-forever' | 'succeed';
  write(stream: Stream, text: string): void;
  /** `cat PATH`: the mock has no filesystem; the content, or null for "no such file". */
  readFile?(path: string): string | null;
}

// setTimeout's limit (~24.8 days); longer sleeps are "forever" and hold no timer.
const MAX_TIMER_MS = 2 ** 31 - 1;
const SIGTERM_EXIT = 128 + 15;
const SIGKILL_EXIT = 128 + 9;

/**
 * Runs a compiled Script with timers, never blocking the event loop, with shell-like signal
 * semantics: a trapped TERM runs the trap at once while the shell is in `wait`, or after the
 * foreground command ends; an untrapped TERM kills (exit 143) unless the process is PID 1;
 * KILL always ends it (exit 137). Every timer is cleared when the process ends.
 */
export class ScriptProcess {
  readonly exited: Promise<ExitInfo>;
  private resolveExit: (info: ExitInfo) => void = () => {};
  private readonly script: Script;
  private readonly opts: ProcessOptions;
  private done = false;
  private started = false;
  private trapAction: TermAction = { kind: 'default' };
  private pendingTerm = false;
  private interruptWait: (() => void) | null = null;
  /** Pending waits; each clears its own timer. All are woken when the process ends. */
  private readonly wakers = new Set<() => void>();
  private jobs: Promise<void>[] = [];
  private lastStatus = 0;

  constructor(script: Script, opts: ProcessOptions) {
    this.script = script;
    this.opts = opts;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get running(): boolean {
    return this.started && !this.done;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.main();
  }

  /** Delivers a signal, as `kill(pid, sig)` would to this process only (not its children). */
  signal(sig: 'TERM' | 'KILL'): void {
    if (this.done) return;
    if (sig === 'KILL') {
      this.finish(SIGKILL_EXIT, 'KILL');
      return;
    }
    switch (this.trapAction.kind) {
      case 'ignore':
        return;
      case 'default':
        if (!this.opts.pid1) this.finish(SIGTERM_EXIT, 'TERM');
        return;
      case 'run':
        this.pendingTerm = true;
        this.interruptWait?.();
        return;
    }
  }

  /** Ends the process at once with `code`, as if it had called exit (the mock's exitContainer). */
  exit(code: number): void {
    this.finish(code, null);
  }

  private async main(): Promise<void> {
    const status = await this.runScript(this.script);
    this.finish(status, null);
  }

  private async runScript(script: Script): Promise<number> {
    for (const st of script) {
      if (this.done) break;
      if (st.background) {
        this.jobs.push(this.runJob(st));
        this.lastStatus = 0;
        continue;
      }
      this.lastStatus = await this.runStatement(st, true);
    }
    return this.lastStatus;
  }

  private async runStatement(st: Statement, foreground: boolean): Promise<number> {
    let status = await this.runCommand(st.first, foreground);
    for (const { op, cmd } of st.rest) {
      if (this.done) break;
      if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue;
      status = await this.runCommand(cmd, foreground);
    }
    return status;
  }

  private async runJob(st: Statement): Promise<void> {
    await this.runStatement(st, false);
  }

  private async runCommand(cmd: Command, foreground: boolean): Promise<number> {
    const status = await this.execute(cmd, foreground);
    if (foreground && this.pendingTerm && !this.done && this.trapAction.kind === 'run') {
      this.pendingTerm = false;
      await this.runScript(this.trapAction.script);
    }
    return status;
  }

  private async execute(cmd: Command, foreground: boolean): Promise<number> {
    switch (cmd.kind) {
      case 'echo':
        this.write(cmd.stream, cmd.text);
        return 0;
      case 'error':
        this.write('stderr', cmd.message);
        return cmd.code;
      case 'status':
        return cmd.code;
      case 'sleep':
        await this.delay(cmd.seconds * 1000);
        return 0;
      case 'exit':
        if (foreground) this.finish(cmd.code ?? this.lastStatus, null);
        return cmd.code ?? this.lastStatus;
      case 'trap':
        if (foreground) this.trapAction = cmd.action;
        return 0;
      case 'wait':
        return (await this.waitJobs()) ? SIGTERM_EXIT : 0;
      case 'cat':
        return this.cat(cmd.paths);
      case 'forever':
        if (this.opts.unknownCommands === 'succeed') return 0;
        await this.delay(Number.POSITIVE_INFINITY);
        return 0;
    }
  }

  private cat(paths: readonly string[]): number {
    let status = 0;
    for (const path of paths) {
      const content = this.opts.readFile?.(path) ?? null;
      if (content === null) {
        this.write('stderr', `cat: can't open '${path}': No such file or directory\n`);
        status = 1;
      } else {
        this.write('stdout', content);
      }
    }
    return status;
  }

  private write(stream: Stream, text: string): void {
    if (!this.done && text) this.opts.write(stream, text);
  }

  private delay(ms: number): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      if (ms <= MAX_TIMER_MS) timer = setTimeout(wake, Math.max(0, ms));
    });
  }

  /** `wait`: resolves true when a trapped TERM interrupted it, false when every job ended. */
  private waitJobs(): Promise<boolean> {
    if (this.done) return Promise.resolve(false);
    const jobs = this.jobs;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (interrupted: boolean) => {
        if (settled) return;
        settled = true;
        this.wakers.delete(onEnd);
        if (this.interruptWait === onInterrupt) this.interruptWait = null;
        if (!interrupted) this.jobs = this.jobs.filter((j) => !jobs.includes(j));
        resolve(interrupted);
      };
      const onInterrupt = () => settle(true);
      const onEnd = () => settle(false);
      this.interruptWait = onInterrupt;
      this.wakers.add(onEnd);
      void Promise.all(jobs).then(() => settle(false));
    });
  }

  private finish(code: number, signal: ExitInfo['signal']): void {
    if (this.done) return;
    this.done = true;
    for (const wake of [...this.wakers]) wake();
    this.wakers.clear();
    this.interruptWait = null;
    this.resolveExit({ code, signal });
  }
}
