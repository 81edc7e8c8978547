/**
 * The shared pod vocabulary (architecture.md): helpers every room may use, declared once.
 * Structurally typed, so rooms with their own narrower pod types (src/probes) can use them.
 */

/** What a container restart decision reads (v1.Container restartPolicy, restartPolicyRules). */
export interface RestartPolicyOf {
  restartPolicy?: string;
  restartPolicyRules?: readonly {
    action: string;
    exitCodes?: { operator: string; values?: readonly number[] };
  }[];
}

/**
 * Whether a container should run again after exiting with `exitCode` (upstream
 * podutil.ContainerShouldRestart, ContainerRestartRules on): the container's
 * restartPolicyRules first (the first rule whose exit codes match decides; Restart restarts),
 * then the container's restartPolicy, then the pod's (default Always).
 */
export function containerShouldRestart(
  container: RestartPolicyOf,
  spec: { restartPolicy?: string },
  exitCode: number,
): boolean {
  if (container.restartPolicy !== undefined) {
    for (const rule of container.restartPolicyRules ?? []) {
      const codes = rule.exitCodes;
      if (!codes) continue;
      const matched = (codes.values ?? []).includes(exitCode);
      const hit = (codes.operator === 'In' && matched) || (codes.operator === 'NotIn' && !matched);
      if (hit) {
        if (rule.action === 'Restart') return true;
        break;
      }
    }
    switch (container.restartPolicy) {
      case 'Always':
        return true;
      case 'OnFailure':
        return exitCode !== 0;
      case 'Never':
        return false;
    }
  }
  switch (spec.restartPolicy) {
    case 'OnFailure':
      return exitCode !== 0;
    case 'Never':
      return false;
    default:
      return true;
  }
}
