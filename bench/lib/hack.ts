/** Runs the repository's hack/ scripts from a benchmark, and the paths they use. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first ancestor of this file holding hack/lib.sh (works from dist/ too). */
export const repoRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'hack', 'lib.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no hack/lib.sh above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

/** Where hack/ keeps run-time state (see hack/lib.sh). */
export const localDir = process.env.KUBELET_TS_LOCAL ?? join(repoRoot, '.local');
export const runDir = join(localDir, 'run');
export const logDir = join(localDir, 'logs');
export const pkiDir = join(localDir, 'pki');
export const adminKubeconfigPath = join(localDir, 'kubeconfig', 'admin.kubeconfig');
export const k8sBin = join(process.env.KUBELET_TS_CACHE ?? '/var/cache/kubelet-ts', 'k8s-v1.37.2', 'bin');

/**
 * Runs `bash hack/<script> args...` with extra environment (an undefined value removes a
 * variable); its stderr (the hack log lines) goes
 * to ours, its stdout is returned. Fails loudly with the script, its exit code and the last
 * lines it printed.
 */
export function runHack(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 600_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'hack', script), ...args], {
      cwd: repoRoot,
      env: Object.fromEntries(
        Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined),
      ) as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let errTail = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      errTail = (errTail + d).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`hack/${script} ${args.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else {
        const why = signal ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exit code ${code}`;
        reject(new Error(`hack/${script} ${args.join(' ')} failed: ${why}\n${errTail.trimEnd()}`));
      }
    });
  });
}
