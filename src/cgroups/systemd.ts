/**
 * Telling systemd about the kubelet's slices (systemd cgroup driver).
 *
 * Upstream talks D-Bus to systemd (runc's systemd manager: StartTransientUnit with MemoryMax,
 * CPUWeight, TasksMax... then writes the files). Without a D-Bus library we use `systemctl`,
 * which as root reaches PID 1 over /run/systemd/private even where no dbus-daemon runs:
 * `set-property --runtime <slice> ...` stores the properties (so systemd itself writes the same
 * values whenever it (re)realizes the slice, e.g. when containerd starts a scope in it, instead of
 * resetting them to its defaults), `start` creates the slice, `stop` + `revert` remove it and its
 * runtime drop-ins. The manager writes the cgroup files itself afterwards either way.
 */
import { execFile } from 'node:child_process';

export interface SystemdUnits {
  /** Stores properties (runtime only) for a slice; creates the unit if systemd did not know it. */
  setProperties(unit: string, properties: readonly string[]): Promise<void>;
  start(unit: string): Promise<void>;
  /** Stops the slice (and anything left in it) and drops its runtime properties. */
  stop(unit: string): Promise<void>;
}

function run(bin: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/** `systemctl` as the SystemdUnits implementation. */
export function systemctlUnits(opts: { bin?: string; timeoutMs?: number } = {}): SystemdUnits {
  const bin = opts.bin ?? 'systemctl';
  const timeout = opts.timeoutMs ?? 30_000;
  return {
    setProperties: (unit, props) =>
      props.length === 0
        ? Promise.resolve()
        : run(bin, ['set-property', '--runtime', unit, ...props], timeout),
    start: (unit) => run(bin, ['start', unit], timeout),
    stop: async (unit) => {
      await run(bin, ['stop', unit], timeout);
      await run(bin, ['revert', unit], timeout).catch(() => {});
    },
  };
}
