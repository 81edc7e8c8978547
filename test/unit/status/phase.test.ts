import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodSpec } from '../../../src/api/types.js';
import { getPhase } from '../../../src/status/generate.js';
import { container, pod, running, sidecar, terminated, waiting } from './fixtures.js';

type Policy = 'Always' | 'OnFailure' | 'Never';
const policies: Policy[] = ['Always', 'OnFailure', 'Never'];

function phaseOf(
  spec: Partial<PodSpec>,
  statuses: ContainerStatus[],
  opts: { terminal?: boolean; initialized?: boolean; static?: boolean } = {},
): string {
  const meta = opts.static ? { annotations: { 'kubernetes.io/config.source': 'file' } } : undefined;
  return getPhase(pod(spec, { meta }), statuses, opts.terminal ?? false, opts.initialized ?? false);
}

describe('getPhase: regular containers', () => {
  // [case, statuses, Always, OnFailure, Never]
  const table: [string, ContainerStatus[], string, string, string][] = [
    ['no statuses', [], 'Pending', 'Pending', 'Pending'],
    ['one status missing', [running('a')], 'Pending', 'Pending', 'Pending'],
    ['all running', [running('a'), running('b')], 'Running', 'Running', 'Running'],
    ['one running, one waiting', [running('a'), waiting('b')], 'Pending', 'Pending', 'Pending'],
    ['all exited 0', [terminated('a', 0), terminated('b', 0)], 'Running', 'Succeeded', 'Succeeded'],
    ['one exited 1', [terminated('a', 0), terminated('b', 1)], 'Running', 'Running', 'Failed'],
    ['all exited 1', [terminated('a', 1), terminated('b', 1)], 'Running', 'Running', 'Failed'],
    ['running + exited 0', [running('a'), terminated('b', 0)], 'Running', 'Running', 'Running'],
    ['running + exited 1', [running('a'), terminated('b', 1)], 'Running', 'Running', 'Running'],
    [
      'waiting after exit 1 (crash loop)',
      [waiting('a', 1), terminated('b', 0)],
      'Running',
      'Running',
      'Failed',
    ],
    // with ContainerRestartRules (default since 1.35) a waiting container never counts as succeeded
    ['waiting after exit 0', [waiting('a', 0), terminated('b', 0)], 'Running', 'Failed', 'Failed'],
    ['running + waiting after exit', [running('a'), waiting('b', 2)], 'Running', 'Running', 'Running'],
  ];
  for (const [name, statuses, always, onFailure, never] of table) {
    it.each([
      ['Always', always],
      ['OnFailure', onFailure],
      ['Never', never],
    ] as const)(`${name} with restartPolicy %s → %s`, (restartPolicy, want) => {
      expect(phaseOf({ restartPolicy }, statuses)).toBe(want);
    });
  }

  it.each(policies)('a terminal (finalising) pod is Succeeded when all exited 0 (%s)', (restartPolicy) => {
    expect(phaseOf({ restartPolicy }, [terminated('a', 0), terminated('b', 0)], { terminal: true })).toBe(
      'Succeeded',
    );
    expect(phaseOf({ restartPolicy }, [terminated('a', 0), terminated('b', 137)], { terminal: true })).toBe(
      'Failed',
    );
  });

  it('a finalising static pod keeps restart-policy semantics', () => {
    expect(phaseOf({}, [terminated('a', 0), terminated('b', 0)], { terminal: true, static: true })).toBe(
      'Running',
    );
  });

  it('honours container-level restartPolicy and restartPolicyRules', () => {
    const never = container('a', { restartPolicy: 'Never' });
    expect(phaseOf({ containers: [never] }, [terminated('a', 1)])).toBe('Failed');
    const rules = container('a', {
      restartPolicy: 'Never',
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
    });
    expect(phaseOf({ containers: [rules], restartPolicy: 'Never' }, [terminated('a', 42)])).toBe('Running');
    expect(phaseOf({ containers: [rules], restartPolicy: 'Never' }, [terminated('a', 1)])).toBe('Failed');
    const onFailure = container('a', { restartPolicy: 'OnFailure' });
    expect(phaseOf({ containers: [onFailure], restartPolicy: 'Always' }, [terminated('a', 0)])).toBe(
      'Succeeded',
    );
  });
});

describe('getPhase: init containers', () => {
  const spec = (restartPolicy: Policy): Partial<PodSpec> => ({
    restartPolicy,
    initContainers: [container('i1'), container('i2')],
    containers: [container('a')],
  });

  it.each(policies)('init container running → Pending (%s)', (p) => {
    expect(phaseOf(spec(p), [running('i1'), waiting('a')])).toBe('Pending');
  });

  it.each(policies)('init container status missing → Pending (%s)', (p) => {
    expect(phaseOf(spec(p), [terminated('i1', 0), waiting('a')])).toBe('Pending');
  });

  it.each([
    ['Always', 'Pending'],
    ['OnFailure', 'Pending'],
    ['Never', 'Failed'],
  ] as const)('init container exited 1 with %s → %s', (p, want) => {
    expect(phaseOf(spec(p), [terminated('i1', 1), waiting('i2'), waiting('a')])).toBe(want);
  });

  it.each([
    ['Always', 'Pending'],
    ['Never', 'Failed'],
  ] as const)('init container waiting after exit 1 with %s → %s', (p, want) => {
    expect(phaseOf(spec(p), [waiting('i1', 1), waiting('i2'), waiting('a')])).toBe(want);
  });

  it.each(policies)('all init done and the container running → Running (%s)', (p) => {
    expect(phaseOf(spec(p), [terminated('i1', 0), terminated('i2', 0), running('a')])).toBe('Running');
  });
});

describe('getPhase: sidecars (restartable init containers)', () => {
  const spec = (restartPolicy: Policy = 'Always'): Partial<PodSpec> => ({
    restartPolicy,
    initContainers: [sidecar('s')],
    containers: [container('a')],
  });

  it('running but not started, main container waiting → Pending', () => {
    expect(phaseOf(spec(), [running('s', false), waiting('a')])).toBe('Pending');
  });

  it('running but not started and not initialized → Pending even with the main container running', () => {
    expect(phaseOf(spec(), [running('s', false), running('a')])).toBe('Pending');
  });

  it('running but not started after the pod initialized (sidecar restart) → Running', () => {
    expect(phaseOf(spec(), [running('s', false), running('a')], { initialized: true })).toBe('Running');
  });

  it('started and the main container running → Running', () => {
    expect(phaseOf(spec(), [running('s', true), running('a')])).toBe('Running');
  });

  it('a sidecar waiting that never ran keeps the pod Pending', () => {
    expect(phaseOf(spec(), [waiting('s'), running('a')], { initialized: true })).toBe('Pending');
  });

  it('a sidecar status missing keeps the pod Pending', () => {
    expect(phaseOf(spec(), [running('a')], { initialized: true })).toBe('Pending');
  });

  it.each([
    ['OnFailure', 'Succeeded'],
    ['Never', 'Succeeded'],
    ['Always', 'Running'],
  ] as const)('main container exited 0, sidecar terminated, %s → %s', (p, want) => {
    expect(phaseOf(spec(p), [terminated('s', 137), terminated('a', 0)])).toBe(want);
  });

  it('a running sidecar keeps a completed pod Running', () => {
    expect(phaseOf(spec('Never'), [running('s', true), terminated('a', 0)])).toBe('Running');
  });

  it('a sidecar crash-looping does not fail a Never pod', () => {
    expect(phaseOf(spec('Never'), [waiting('s', 1), running('a')])).toBe('Running');
  });
});
