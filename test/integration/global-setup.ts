import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Brings up the real containerd and control plane through hack/ (idempotent: a no-op when they
 * already run). Integration tests never skip: when the environment cannot start, this throws
 * with the script's own output, and every integration test fails with that reason.
 */
export default async function setup(): Promise<void> {
  if (process.env.KUBELET_TS_ENV_READY === '1') return;
  try {
    await run('bash', [join(root, 'hack', 'env.sh'), 'up'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60 * 60 * 1000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `the local environment (containerd + control plane) could not start: ${e.message}\n${e.stderr ?? ''}`,
    );
  }
}
