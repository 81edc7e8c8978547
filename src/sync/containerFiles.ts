import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../api/types.js';

/**
 * Files the kubelet writes for containers: the managed /etc/hosts, the termination-message
 * file, log directories and the legacy /var/log/containers symlink.
 */

const HOSTS_HEADER = `# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
`;

/**
 * PURE: the managed hosts file content for a non-hostNetwork pod (upstream
 * managedHostsFileContent): one line per pod IP, `<ip>\t<hostname>.<hostDomain>\t<hostname>`
 * when the pod has a domain, else `<ip>\t<hostname>`.
 */
export function hostsFileContent(pod: Pod, podIPs: string[], hostname: string, hostDomain: string): string {
  let out = HOSTS_HEADER;
  for (const ip of podIPs) {
    out += hostDomain ? `${ip}\t${hostname}.${hostDomain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  }
  return out + hostAliasesEntries(pod);
}

/**
 * PURE: the managed hosts file of a hostNetwork pod (upstream nodeHostsFileContent): the node's
 * own hosts file under a header, then the pod's hostAliases.
 */
export function nodeHostsFileContent(pod: Pod, nodeHosts: string): string {
  return `# Kubernetes-managed hosts file (host network).\n${nodeHosts}${hostAliasesEntries(pod)}`;
}

function hostAliasesEntries(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

export async function writeHostsFile(podDir: string, content: string): Promise<string> {
  await mkdir(podDir, { recursive: true, mode: 0o750 });
  const path = join(podDir, 'etc-hosts');
  await writeFile(path, content, { mode: 0o644 });
  return path;
}

/** A fresh, empty termination-message file for one container instance (mode 0666). */
export async function newTerminationLogFile(podDir: string, containerName: string): Promise<string> {
  const dir = join(podDir, 'containers', containerName);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const path = join(dir, randomBytes(4).toString('hex'));
  await writeFile(path, '', { mode: 0o666 });
  const { chmod } = await import('node:fs/promises');
  await chmod(path, 0o666);
  return path;
}

/** The highest N among `N.log` files in a container's log dir, or -1. */
export async function lastLogIndex(containerLogDir: string): Promise<number> {
  const names = await readdir(containerLogDir).catch(() => [] as string[]);
  let max = -1;
  for (const n of names) {
    const m = /^(\d+)\.log$/.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** /var/log/containers/<pod>_<ns>_<container>-<id>.log → the real log file (errors ignored). */
export async function legacyLogSymlink(
  pod: Pod,
  container: string,
  id: string,
  target: string,
): Promise<void> {
  const name = `${pod.metadata?.name}_${pod.metadata?.namespace}_${container}-${id}`.slice(0, 251);
  const link = join('/var/log/containers', `${name}.log`);
  try {
    await mkdir('/var/log/containers', { recursive: true });
    await unlink(link).catch(() => {});
    await symlink(target, link);
  } catch {
    // best effort, like upstream
  }
}

const MAX_MESSAGE = 4096;
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

/** Reads at most 4096 bytes of a termination-message file ('' when absent). */
export async function readTerminationMessage(path: string): Promise<string> {
  if (!path) return '';
  let fh: import('node:fs/promises').FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(MAX_MESSAGE);
    const { bytesRead } = await fh.read(buf, 0, MAX_MESSAGE, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return '';
  } finally {
    await fh?.close();
  }
}

/** PURE: the text of CRI log lines (`<time> <stream> <P|F> <text>`), partial lines joined. */
export function criLogText(raw: string): string {
  let out = '';
  for (const line of raw.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    out += m[2];
    if (m[1] === 'F') out += '\n';
  }
  return out;
}

/** FallbackToLogsOnError: the last 80 lines of the container log, at most 2048 bytes. */
export async function tailLogMessage(logPath: string): Promise<string> {
  if (!logPath) return '';
  const text = criLogText(await readFile(logPath, 'utf8').catch(() => ''));
  // A final newline is kept only when the last line was complete (an F record).
  const complete = text.endsWith('\n');
  const lines = (complete ? text.slice(0, -1) : text).split('\n');
  const tail = text ? lines.slice(-FALLBACK_LINES).join('\n') + (complete ? '\n' : '') : '';
  const buf = Buffer.from(tail, 'utf8');
  return buf.length > FALLBACK_BYTES ? buf.subarray(buf.length - FALLBACK_BYTES).toString('utf8') : tail;
}
