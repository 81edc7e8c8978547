import type { StartFailure } from './types.js';

/**
 * The last failed start of each container (upstream ReasonCache): what the status shows as the
 * container's waiting reason and message until a start succeeds. Keyed by pod UID, forgotten with
 * the pod.
 */
export class ReasonCache {
  private readonly failures = new Map<string, Map<string, StartFailure>>();

  get(uid: string): ReadonlyMap<string, StartFailure> {
    return this.failures.get(uid) ?? new Map();
  }

  set(uid: string, name: string, f: StartFailure | undefined): void {
    let m = this.failures.get(uid);
    if (!f) {
      m?.delete(name);
      return;
    }
    if (!m) {
      m = new Map();
      this.failures.set(uid, m);
    }
    m.set(name, f);
  }

  forget(uid: string): void {
    this.failures.delete(uid);
  }
}
