import { containerShouldRestart, isSidecar, isStaticPod, PHASE } from '../api/pod.js';
import type { ContainerStatus, Pod } from '../api/types.js';
import { findStatus } from './podutil.js';

/**
 * The pod phase from its container statuses (upstream kubelet getPhase, with
 * ContainerRestartRules on). `statuses` holds regular and init container statuses;
 * `podHasInitialized` is true when a regular container of the current sandbox exists.
 */
export function getPhase(
  pod: Pod,
  statuses: readonly ContainerStatus[],
  podIsTerminal: boolean,
  podHasInitialized: boolean,
): string {
  const spec = pod.spec ?? { containers: [] };
  const initContainers = spec.initContainers ?? [];
  let pendingSidecars = 0;
  let pendingRegularInit = 0;
  let failedInitNotRestartable = 0;

  for (const c of initContainers) {
    if (isSidecar(c)) continue;
    const s = findStatus(statuses, c.name);
    const state = s?.state;
    if (!s || state?.running) {
      pendingRegularInit++;
    } else if (state?.terminated) {
      const code = state.terminated.exitCode;
      if (code !== 0 && !containerShouldRestart(c, spec, code)) failedInitNotRestartable++;
    } else if (state?.waiting) {
      const last = s.lastState?.terminated;
      if (!last) pendingRegularInit++;
      else if (last.exitCode !== 0 && !containerShouldRestart(c, spec, last.exitCode))
        failedInitNotRestartable++;
    } else {
      pendingRegularInit++;
    }
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let stoppedNotRestartable = 0;
  let succeeded = 0;

  for (const c of initContainers) {
    if (!isSidecar(c)) continue;
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) {
      if (s.started !== true) pendingSidecars++;
      running++;
    } else if (s.state?.terminated) {
      // terminated sidecars do not count
    } else if (s.state?.waiting) {
      if (!s.lastState?.terminated) {
        pendingSidecars++;
        waiting++;
      }
    } else {
      pendingSidecars++;
      unknown++;
    }
  }

  for (const c of spec.containers) {
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    const term = s.state?.terminated;
    if (s.state?.running) {
      running++;
    } else if (term) {
      stopped++;
      if (!containerShouldRestart(c, spec, term.exitCode)) stoppedNotRestartable++;
      if (term.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      const last = s.lastState?.terminated;
      if (last) {
        stopped++;
        if (!containerShouldRestart(c, spec, last.exitCode)) stoppedNotRestartable++;
      } else {
        waiting++;
      }
    } else {
      unknown++;
    }
  }

  if (failedInitNotRestartable > 0) return PHASE.failed;
  if (pendingRegularInit > 0 || (pendingSidecars > 0 && !podHasInitialized) || waiting > 0) {
    return PHASE.pending;
  }
  if (running > 0 && unknown === 0) return PHASE.running;
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal && !isStaticPod(pod)) {
      return stopped === succeeded ? PHASE.succeeded : PHASE.failed;
    }
    if (stopped !== stoppedNotRestartable) return PHASE.running;
    return stopped === succeeded ? PHASE.succeeded : PHASE.failed;
  }
  return PHASE.pending;
}
