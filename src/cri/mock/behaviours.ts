import { compileArgv, compileScript, type Env, type Script, type Statement } from './programs.js';

/**
 * How a container behaves, overriding what its command line would do:
 * - a string: a shell script, as if the container ran `sh -c <string>`;
 * - a string array: an argv, as if it were the container's command + args;
 * - a ProgramSpec.
 */
export type ContainerProgram = string | readonly string[] | ProgramSpec;

export interface ProgramSpec {
  /** Lines the container prints to stdout when it starts. */
  log?: readonly string[];
  /** Lines it prints to stderr when it starts. */
  stderr?: readonly string[];
  /** Exits this long after starting; omit to run until stopped. */
  exitAfterMs?: number;
  /** The exit code when it exits by itself (default 0). */
  exitCode?: number;
  /**
   * SIGTERM: 'default' follows PID-1 rules (ignored in its own PID namespace, else exit 143),
   * 'ignore' never exits on it, { exitCode } exits at once with that code. Default: 'default'.
   */
  onTerm?: 'default' | 'ignore' | { exitCode: number };
  /** StartContainer fails with this runc message (exit 128, reason StartError). */
  startError?: string;
}

export interface CompiledProgram {
  script: Script;
  startError?: string;
}

const stmt = (first: Statement['first'], background = false): Statement => ({ first, rest: [], background });

export function compileProgram(program: ContainerProgram, env: Env): CompiledProgram {
  if (typeof program === 'string') return { script: compileScript(program, env) };
  if (isArgv(program)) return { script: compileArgv(program, env) };
  const script: Statement[] = [];
  const onTerm = program.onTerm ?? 'default';
  if (onTerm === 'ignore') script.push(stmt({ kind: 'trap', action: { kind: 'ignore' } }));
  else if (onTerm !== 'default') {
    const exit = [stmt({ kind: 'exit', code: onTerm.exitCode })];
    script.push(stmt({ kind: 'trap', action: { kind: 'run', script: exit } }));
  }
  for (const line of program.log ?? [])
    script.push(stmt({ kind: 'echo', text: `${line}\n`, stream: 'stdout' }));
  for (const line of program.stderr ?? []) {
    script.push(stmt({ kind: 'echo', text: `${line}\n`, stream: 'stderr' }));
  }
  const seconds = program.exitAfterMs === undefined ? Number.POSITIVE_INFINITY : program.exitAfterMs / 1000;
  // `sleep & wait`, so a trapped TERM ends the wait at once.
  script.push(stmt({ kind: 'sleep', seconds }, true), stmt({ kind: 'wait' }));
  script.push(stmt({ kind: 'exit', code: program.exitCode ?? 0 }));
  return program.startError === undefined ? { script } : { script, startError: program.startError };
}

function isArgv(p: ContainerProgram): p is readonly string[] {
  return Array.isArray(p);
}

/** A scripted ExecSync answer. */
export interface ExecResult {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Answer after this long (the request's timeout still applies). */
  delayMs?: number;
}

/** A fixed answer, or a function of the exec's cmd (undefined: use the default interpreter). */
export type ExecHandler = ExecResult | ((cmd: readonly string[]) => ExecResult | undefined);

export function execResultScript(r: ExecResult): Script {
  const script: Statement[] = [];
  if (r.delayMs) script.push(stmt({ kind: 'sleep', seconds: r.delayMs / 1000 }));
  if (r.stdout) script.push(stmt({ kind: 'echo', text: r.stdout, stream: 'stdout' }));
  if (r.stderr) script.push(stmt({ kind: 'echo', text: r.stderr, stream: 'stderr' }));
  script.push(stmt({ kind: 'exit', code: r.exitCode ?? 0 }));
  return script;
}

/** Stats a container reports (ContainerStats/ListContainerStats); unset fields keep defaults. */
export interface StatsSpec {
  memoryWorkingSetBytes?: number;
  cpuUsageCoreNanoSeconds?: number;
  writableLayerBytes?: number;
}
