import { posix } from 'node:path';
import type { Container } from '../../api/types.js';
import type { Mount } from '../../cri/types.js';
import { expand } from '../../util/expand.js';
import { makeSubPath, SubPathError } from '../../volumes/subpath.js';
import { newTerminationLogFile } from '../containerFiles.js';
import { propagation } from '../criConfig.js';
import { SyncError } from '../errors.js';
import type { StartContext } from './types.js';

/**
 * A container's mounts (upstream makeMounts): its volume mounts with subPath/subPathExpr, the
 * pod's /etc/hosts and the termination-message file.
 */
export async function containerMounts(
  c: Container,
  x: StartContext,
  env: Map<string, string>,
): Promise<Mount[]> {
  const out: Mount[] = [];
  const seen = new Set<string>();
  for (const vm of c.volumeMounts ?? []) {
    if (seen.has(vm.mountPath)) {
      throw new SyncError('CreateContainerConfigError', `duplicate mount path ${vm.mountPath}`);
    }
    seen.add(vm.mountPath);
    const src = x.volumes.get(vm.name);
    if (!src)
      throw new SyncError(
        'CreateContainerConfigError',
        `cannot find volume "${vm.name}" to mount into container "${c.name}"`,
      );
    let hostPath = src.hostPath;
    const sub = vm.subPathExpr ? expandSubPath(vm.subPathExpr, env) : vm.subPath;
    if (sub) {
      if (posix.isAbsolute(sub))
        throw new SyncError(
          'CreateContainerConfigError',
          `error SubPath \`${sub}\` must not be an absolute path`,
        );
      if (sub.split('/').includes('..')) {
        throw new SyncError(
          'CreateContainerConfigError',
          `unable to provision SubPath \`${sub}\`: must not contain '..'`,
        );
      }
      try {
        hostPath = await makeSubPath(hostPath, sub, vm.name, c.name);
      } catch (err) {
        if (err instanceof SubPathError) throw new SyncError('CreateContainerConfigError', err.message);
        throw err;
      }
    }
    out.push({
      containerPath: vm.mountPath,
      hostPath,
      readonly: vm.readOnly === true || src.forceReadOnly,
      selinuxRelabel: false,
      propagation: propagation(vm.mountPropagation),
    });
  }
  if (x.hostsPath && !seen.has('/etc/hosts')) {
    out.push({
      containerPath: '/etc/hosts',
      hostPath: x.hostsPath,
      readonly: false,
      selinuxRelabel: false,
      propagation: 'PROPAGATION_PRIVATE',
    });
  }
  const tmp = c.terminationMessagePath ?? '/dev/termination-log';
  if (tmp && !seen.has(tmp)) {
    const file = await newTerminationLogFile(x.podDir, c.name);
    out.push({
      containerPath: tmp,
      hostPath: file,
      readonly: false,
      selinuxRelabel: false,
      propagation: 'PROPAGATION_PRIVATE',
    });
  }
  return out;
}

/** Upstream ExpandContainerVolumeMounts: every referenced variable must be set and non-empty. */
function expandSubPath(expr: string, env: Map<string, string>): string {
  const missing = new Set<string>();
  const out = expand(expr, (k) => {
    const v = env.get(k);
    if (!v) missing.add(k);
    return v ?? '';
  });
  if (missing.size > 0) {
    throw new SyncError('CreateContainerConfigError', `missing value for ${[...missing].sort().join(', ')}`);
  }
  return out;
}
