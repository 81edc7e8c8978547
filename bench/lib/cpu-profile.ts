/**
 * A preload that CPU-profiles the process it is loaded into (Node 20 refuses --cpu-prof in
 * NODE_OPTIONS, but allows --import):
 *
 *   NODE_OPTIONS="--import=/path/to/dist/bench/lib/cpu-profile.js" KUBELET_TS_CPU_PROF_DIR=DIR node ...
 *
 * writes DIR/<pid>-<epoch ms>.cpuprofile (Chrome DevTools format) when the process exits.
 * bench/pod-startup's --kubelet-cpu-prof DIR sets both for kubelet-ts.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.KUBELET_TS_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let written = false;
  process.on('exit', () => {
    if (written) return;
    written = true;
    // An in-thread inspector session answers synchronously, so this completes before exit.
    session.post('Profiler.stop', (err, res) => {
      if (err) {
        process.stderr.write(`cpu-profile: ${err.message}\n`);
        return;
      }
      writeFileSync(join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
