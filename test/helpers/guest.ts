import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localDir, repoRoot } from './env.js';

// The node VM (hack/node-vm.sh): a Debian guest under qemu with cgroup v2, containerd and
// kubelet-ts as systemd services, joined to the host's control plane. These helpers start and stop
// it and read files and run commands inside it through its token-protected agent.

const run = promisify(execFile);
const nodeVm = join(repoRoot, 'hack', 'node-vm.sh');

export type CgroupDriver = 'systemd' | 'cgroupfs';

export interface GuestOptions {
  /** Merged over the guest's KubeletConfiguration (cgroupDriver, cgroupsPerQOS: true, ...). */
  kubeletConfig?: Record<string, unknown>;
  /** containerd's SystemdCgroup and the kubelet's cgroupDriver together (default systemd). */
  cgroupDriver?: CgroupDriver;
  /** Extra kubelet flags, e.g. `--v 4`. */
  kubeletArgs?: string;
  /** How long `up` waits for the node to be Ready (default 480 s). */
  readyTimeoutS?: number;
}

/**
 * Boots node VM `name` (building the cached base image first when needed) and waits until the
 * Node is Ready. Throws with the script's output, which ends with the guest's console log and the
 * kubelet's journal when the node did not come up.
 */
export async function startGuest(name: string, opts: GuestOptions = {}): Promise<void> {
  const cfgFile = join(tmpdir(), `kts-guest-${name}-${randomBytes(4).toString('hex')}.json`);
  await writeFile(cfgFile, JSON.stringify(opts.kubeletConfig ?? {}));
  try {
    await run('bash', [nodeVm, 'up', name], {
      env: {
        ...process.env,
        NODE_VM_KUBELET_CONFIG: cfgFile,
        NODE_VM_CGROUP_DRIVER: opts.cgroupDriver ?? 'systemd',
        NODE_VM_KUBELET_ARGS: opts.kubeletArgs ?? '',
        NODE_VM_READY_TIMEOUT: String(opts.readyTimeoutS ?? 480),
      },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60 * 1000,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `node VM ${name} did not become a Ready node (hack/node-vm.sh up ${name}): ${e.message}\n${e.stderr ?? ''}`,
    );
  } finally {
    await rm(cfgFile, { force: true });
  }
}

/** Stops node VM `name` by its PID file (the guest's disk is a throw-away snapshot). */
export async function stopGuest(name: string): Promise<void> {
  await run('bash', [nodeVm, 'down', name], { timeout: 60_000 });
}

export interface GuestExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

async function agent(name: string): Promise<{ url: string; token: string }> {
  const dir = join(localDir, 'node-vm', name);
  try {
    const [port, token] = await Promise.all([
      readFile(join(dir, 'port'), 'utf8'),
      readFile(join(dir, 'token'), 'utf8'),
    ]);
    return { url: `http://127.0.0.1:${port.trim()}/exec`, token: token.trim() };
  } catch {
    throw new Error(`node VM ${name} is not up (no ${dir}/port): start it with startGuest()`);
  }
}

/**
 * Runs a command in the guest as root: a string goes through `/bin/sh -c`, an array is exec'd
 * as is. Resolves with the exit code and output; never throws for a non-zero exit.
 */
export async function guestExec(
  name: string,
  cmd: string | string[],
  opts: { timeoutMs?: number; stdin?: string } = {},
): Promise<GuestExecResult> {
  const { url, token } = await agent(name);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(typeof cmd === 'string' ? { sh: cmd } : { argv: cmd }),
      timeoutMs,
      stdin: opts.stdin,
    }),
    signal: AbortSignal.timeout(timeoutMs + 10_000),
  });
  if (res.status !== 200)
    throw new Error(`guest agent of ${name} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as GuestExecResult;
}

/** Runs a shell script in the guest; returns its stdout, throws (with stderr) unless it exits 0. */
export async function guestSh(
  name: string,
  script: string,
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  const r = await guestExec(name, script, opts);
  if (r.code !== 0) {
    throw new Error(
      `in guest ${name}: \`${script}\` ${r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal}`}: ${r.stderr}${r.stdout}`,
    );
  }
  return r.stdout;
}

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The contents of a file in the guest (e.g. under /sys/fs/cgroup); throws when it cannot be read. */
export async function guestReadFile(name: string, path: string): Promise<string> {
  return guestSh(name, `cat ${shq(path)}`);
}

/** Whether a path (file or directory) exists in the guest. */
export async function guestExists(name: string, path: string): Promise<boolean> {
  return (await guestExec(name, ['test', '-e', path])).code === 0;
}

/**
 * Several files of one directory in a single round trip, trimmed: `{ 'memory.max': '67108864' }`.
 * A file that cannot be read maps to undefined.
 */
export async function guestReadFiles(
  name: string,
  dir: string,
  files: readonly string[],
): Promise<Record<string, string | undefined>> {
  const script = files
    .map(
      (f) =>
        `printf '%s\\0' ${shq(f)}; cat ${shq(`${dir}/${f}`)} 2>/dev/null || printf '\\001'; printf '\\0'`,
    )
    .join('; ');
  const out = await guestSh(name, script);
  const parts = out.split('\0');
  const result: Record<string, string | undefined> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const v = parts[i + 1]!;
    result[parts[i]!] = v === '\u0001' ? undefined : v.trim();
  }
  return result;
}

/** A container ID from a pod status (`containerd://<id>` -> `<id>`). */
export function runtimeId(containerID: string | undefined): string {
  const id = containerID?.replace(/^[a-z]+:\/\//, '') ?? '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`not a containerd container ID: ${containerID}`);
  return id;
}

/** The PID of a running container's init process in the guest (from `ctr task ls`). */
export async function guestContainerPid(name: string, containerId: string): Promise<number> {
  const out = await guestSh(name, 'ctr -n k8s.io task ls');
  for (const line of out.split('\n')) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id === containerId && status === 'RUNNING') return Number(pid);
  }
  throw new Error(`container ${containerId} has no RUNNING task in guest ${name}:\n${out}`);
}

/**
 * The cgroup v2 directory of a running container in the guest, as the kernel reports it for the
 * container's init process (`0::/kubepods.slice/...` -> `/sys/fs/cgroup/kubepods.slice/...`).
 * Works for either cgroup driver and any cgroup parent.
 */
export async function guestContainerCgroupDir(name: string, containerId: string): Promise<string> {
  const pid = await guestContainerPid(name, containerId);
  const cg = await guestReadFile(name, `/proc/${pid}/cgroup`);
  const line = cg.split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new Error(`container ${containerId} (pid ${pid}) is not in a cgroup v2 hierarchy: ${cg}`);
  return `/sys/fs/cgroup${line.slice(3)}`;
}

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/**
 * Upstream's pod cgroup directory (pkg/kubelet/cm: pod_container_manager_linux.go with the
 * cgroup v2 manager and CgroupRoot `/`): the systemd driver turns the name
 * [kubepods, <qos>, pod<uid>] into nested slices with `-` in the UID escaped to `_`.
 */
export function podCgroupDir(qos: QosClass, uid: string, driver: CgroupDriver = 'systemd'): string {
  if (driver === 'cgroupfs') {
    return qos === 'Guaranteed'
      ? `/sys/fs/cgroup/kubepods/pod${uid}`
      : `/sys/fs/cgroup/kubepods/${qos.toLowerCase()}/pod${uid}`;
  }
  const u = uid.replaceAll('-', '_');
  if (qos === 'Guaranteed') return `/sys/fs/cgroup/kubepods.slice/kubepods-pod${u}.slice`;
  const q = qos.toLowerCase();
  return `/sys/fs/cgroup/kubepods.slice/kubepods-${q}.slice/kubepods-${q}-pod${u}.slice`;
}

/** A container's cgroup under its pod's with containerd's systemd driver: `cri-containerd-<id>.scope`. */
export function containerScopeDir(podDir: string, containerId: string): string {
  return `${podDir}/cri-containerd-${containerId}.scope`;
}

/** Upstream MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go). */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return 2;
  return Math.min(262144, Math.max(2, Math.floor((milliCpu * 1024) / 1000)));
}

/**
 * cpu.weight for cpu.shares as the upstream kubelet v1.37.2 writes it for ITS cgroups (pods, QoS
 * levels, kubepods) on cgroup v2: getCPUWeight in pkg/kubelet/cm/cgroup_manager_linux.go, linear
 * from [2, 262144] to [1, 10000]. It hands runc's cgroup manager CpuWeight directly, so runc's own
 * (newer, quadratic) shares conversion does not apply there. runc 1.1.5 in the guest converts the
 * shares of CONTAINER cgroups with this same linear formula.
 */
export function cpuWeightFromShares(shares: number): number {
  if (shares >= 262144) return 10000;
  return 1 + Math.floor(((Math.max(2, shares) - 2) * 9999) / 262142);
}

/** Parses /proc/meminfo of the guest into bytes: `{ MemTotal: ..., MemFree: ..., 'Inactive(file)': ... }`. */
export async function guestMeminfo(name: string): Promise<Record<string, number>> {
  const out = await guestReadFile(name, '/proc/meminfo');
  const info: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) info[m[1]!] = Number(m[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return info;
}

/** The last lines of a systemd unit's journal in the guest (for failure messages). */
export async function guestJournal(name: string, unit = 'kubelet-ts', lines = 80): Promise<string> {
  const r = await guestExec(name, ['journalctl', '--no-pager', '-o', 'cat', '-n', String(lines), '-u', unit]);
  return r.stdout + r.stderr;
}
