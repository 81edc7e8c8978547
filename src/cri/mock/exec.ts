import { onAbort } from '../../util/abort.js';
import type { ExecSyncResponse } from '../gen/runtime/v1/ExecSyncResponse.js';
import { type ExecResult, execResultScript } from './behaviours.js';
import { cancelled, deadlineExceeded } from './errors.js';
import { ScriptProcess } from './process.js';
import { compileArgv } from './programs.js';
import type { ContainerRecord } from './state.js';
import { raceTimeout } from './wait.js';

/**
 * ExecSync in a running container: a scripted result, or the tiny shell run on `cmd` (commands
 * it cannot model succeed silently). `timeoutSeconds` > 0 ends it with DEADLINE_EXCEEDED and
 * containerd's message; the container exiting ends it with 137.
 */
export async function execSync(
  c: ContainerRecord,
  cmd: readonly string[],
  timeoutSeconds: number,
  scripted: ExecResult | undefined,
  signal: AbortSignal,
): Promise<ExecSyncResponse> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const proc = new ScriptProcess(scripted ? execResultScript(scripted) : compileArgv(cmd, c.env), {
    pid1: false,
    unknownCommands: 'succeed',
    write: (stream, text) => (stream === 'stdout' ? stdout : stderr).push(Buffer.from(text)),
  });
  const ac = new AbortController();
  const detach = onAbort(signal, () => ac.abort());
  c.execs.add(ac);
  try {
    proc.start();
    const limitMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
    const outcome = await raceTimeout(proc.exited, limitMs, ac.signal);
    if (outcome.kind === 'timeout') {
      throw deadlineExceeded(
        `failed to exec in container: timeout ${timeoutSeconds}s exceeded: context deadline exceeded`,
      );
    }
    if (outcome.kind === 'aborted' && signal.aborted) throw cancelled('context canceled');
    const exitCode = outcome.kind === 'done' ? outcome.value.code : 137;
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode };
  } finally {
    proc.signal('KILL');
    c.execs.delete(ac);
    detach();
  }
}
