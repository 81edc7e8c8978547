import { status as GrpcStatus } from '@grpc/grpc-js';
import { CriError } from '../cri/errors.js';
import { errorMessage } from '../util/errors.js';
import { expand } from '../util/expand.js';
import { ProbeError } from './errors.js';
import type { ProbeOutcome } from './types.js';

/** The part of the CRI client exec probes and hooks use. */
export interface ExecRunner {
  execSync(
    containerId: string,
    cmd: string[],
    timeoutSeconds: number,
    o?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ stdout: Buffer | Uint8Array; stderr: Buffer | Uint8Array; exitCode: number }>;
}

const MAX_OUTPUT_BYTES = 10 * 1024;

const GO_CODE_NAMES: Record<number, string> = {
  [GrpcStatus.OK]: 'OK',
  [GrpcStatus.CANCELLED]: 'Canceled',
  [GrpcStatus.UNKNOWN]: 'Unknown',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.ABORTED]: 'Aborted',
  [GrpcStatus.OUT_OF_RANGE]: 'OutOfRange',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.INTERNAL]: 'Internal',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DATA_LOSS]: 'DataLoss',
  [GrpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
};

/** Go's grpc status error text: `rpc error: code = NotFound desc = ...`. */
export function grpcErrorText(code: number, details: string): string {
  return `rpc error: code = ${GO_CODE_NAMES[code] ?? `Code(${code})`} desc = ${details}`;
}

export function criErrorText(err: unknown): string {
  if (err instanceof CriError) return grpcErrorText(err.code, err.details);
  return errorMessage(err);
}

function combined(stdout: Buffer | Uint8Array, stderr: Buffer | Uint8Array): string {
  return Buffer.concat([Buffer.from(stdout), Buffer.from(stderr)])
    .subarray(0, MAX_OUTPUT_BYTES)
    .toString('utf8');
}

/**
 * An exec probe (upstream pkg/probe/exec over the runtime's ExecSync): exit 0 → success, any
 * other exit → failure with stdout+stderr (10 KiB cap); the runtime's DeadlineExceeded →
 * failure `command "<cmd>" timed out`; any other runtime error is a ProbeError.
 */
export async function execProbe(
  runner: ExecRunner,
  containerId: string,
  cmd: string[],
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  try {
    const res = await runner.execSync(containerId, cmd, timeoutSeconds, { signal });
    const output = combined(res.stdout, res.stderr);
    return { outcome: res.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (err instanceof CriError && err.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return { outcome: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    }
    throw new ProbeError(criErrorText(err), 'unknown', { cause: err });
  }
}

/**
 * Runs a hook command with no timeout (upstream RunInContainer with timeout 0); throws an
 * Error with upstream's text on a non-zero exit. Returns the combined output.
 */
export async function execHook(
  runner: ExecRunner,
  containerId: string,
  cmd: string[],
  signal?: AbortSignal,
): Promise<{ output: string; error?: string }> {
  try {
    const res = await runner.execSync(containerId, cmd, 0, { signal, timeoutMs: 0 });
    const output = combined(res.stdout, res.stderr);
    if (res.exitCode !== 0) {
      return {
        output,
        error: `command '${cmd.join(' ')}' exited with ${res.exitCode}: ${Buffer.from(res.stderr).toString('utf8')}`,
      };
    }
    return { output };
  } catch (err) {
    return { output: '', error: criErrorText(err) };
  }
}

/** Kubernetes $(VAR) expansion of a command against the container's static env values (upstream ExpandContainerCommandOnlyStatic). */
export function expandStatic(command: readonly string[], env: readonly { name: string; value?: string }[]) {
  const vars = new Map<string, string>();
  for (const e of env) if (e.value !== undefined) vars.set(e.name, e.value);
  return command.map((s) => expand(s, (n) => vars.get(n)));
}
