import { describe, expect, it } from 'vitest';
import type { Container, PodStatus } from '../../../src/api/types.js';
import { canBeDeleted, checkContainerStateTransition, mergePodStatus } from '../../../src/status/merge.js';
import { container, pod, running, sidecar, T0_S, terminated, waiting } from './fixtures.js';

const api = (): PodStatus => ({
  phase: 'Running',
  conditions: [
    { type: 'example.com/gate', status: 'True', lastTransitionTime: 'T0' },
    { type: 'Ready', status: 'True', lastTransitionTime: 'T0' },
    { type: 'Initialized', status: 'True', lastTransitionTime: 'T0' },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' },
  ],
  resourceClaimStatuses: [{ name: 'gpu', resourceClaimName: 'gpu-claim' }],
});

const kubelet = (phase: string, extra: Partial<PodStatus> = {}): PodStatus => ({
  phase,
  conditions: [
    { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: 'T1' },
    { type: 'Ready', status: 'True', lastTransitionTime: 'T0' },
    { type: 'ContainersReady', status: 'True', lastTransitionTime: 'T0' },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' },
  ],
  ...extra,
});

describe('mergePodStatus', () => {
  it('keeps foreign conditions first, then the kubelet ones; drops kubelet conditions it no longer has', () => {
    const m = mergePodStatus(pod(), api(), kubelet('Running'), true, 'T-now');
    expect(m.conditions?.map((c) => c.type)).toEqual([
      'example.com/gate',
      'PodReadyToStartContainers',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
    expect(m.resourceClaimStatuses).toEqual(api().resourceClaimStatuses);
  });

  it('holds a terminal phase back while containers could still run', () => {
    const next = kubelet('Succeeded', { reason: 'R', message: 'M' });
    const held = mergePodStatus(pod(), api(), next, true, 'T-now');
    expect(held).toMatchObject({ phase: 'Running' });
    expect(held.reason).toBeUndefined();
    const sent = mergePodStatus(pod(), api(), next, false, 'T-now');
    expect(sent).toMatchObject({ phase: 'Succeeded', reason: 'R', message: 'M' });
    expect(sent.conditions?.find((c) => c.type === 'Ready')).toEqual({
      type: 'Ready',
      observedGeneration: 3,
      status: 'False',
      reason: 'PodCompleted',
      lastTransitionTime: 'T-now',
    });
  });

  it('sends DisruptionTarget only with the terminal phase, with a fresh transition time', () => {
    const dt = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'TerminationByKubelet',
      lastTransitionTime: 'T-old',
    };
    const next = kubelet('Failed', { conditions: [...(kubelet('Failed').conditions ?? []), dt] });
    const early = mergePodStatus(pod(), api(), next, true, 'T-now');
    expect(early.conditions?.some((c) => c.type === 'DisruptionTarget')).toBe(false);
    const late = mergePodStatus(pod(), api(), next, false, 'T-now');
    expect(late.conditions?.find((c) => c.type === 'DisruptionTarget')).toEqual({
      ...dt,
      lastTransitionTime: 'T-now',
    });
  });

  it('keeps a DisruptionTarget others wrote', () => {
    const withDt = api();
    withDt.conditions?.push({ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' });
    const m = mergePodStatus(pod(), withDt, kubelet('Running'), true, 'T-now');
    expect(m.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason).toBe('PreemptionByScheduler');
  });

  it('never regresses a terminal phase', () => {
    const done = { ...api(), phase: 'Succeeded' };
    expect(mergePodStatus(pod(), done, kubelet('Running'), false, 'T-now').phase).toBe('Succeeded');
  });
});

describe('checkContainerStateTransition', () => {
  const spec = (restartPolicy: string) => ({
    restartPolicy,
    initContainers: [container('init'), sidecar('side')],
    containers: [container('a')],
  });
  const st = (
    a: PodStatus['containerStatuses'],
    init: PodStatus['initContainerStatuses'] = [],
  ): PodStatus => ({
    containerStatuses: a,
    initContainerStatuses: init,
  });

  it.each([
    ['Always', 'terminated(0) → running', [terminated('a', 0)], [running('a')], undefined],
    [
      'Never',
      'terminated(1) → running',
      [terminated('a', 1)],
      [running('a')],
      'terminated container a attempted illegal transition to non-terminated state',
    ],
    [
      'Never',
      'terminated(0) → waiting',
      [terminated('a', 0)],
      [waiting('a')],
      'terminated container a attempted illegal transition to non-terminated state',
    ],
    ['OnFailure', 'terminated(1) → running', [terminated('a', 1)], [running('a')], undefined],
    [
      'OnFailure',
      'terminated(0) → running',
      [terminated('a', 0)],
      [running('a')],
      'terminated container a attempted illegal transition to non-terminated state',
    ],
    ['Never', 'running → terminated', [running('a')], [terminated('a', 0)], undefined],
  ])('%s: %s', (policy, _, olds, news, want) => {
    expect(checkContainerStateTransition(st(olds), st(news), spec(policy))).toBe(want);
  });

  it('checks regular init containers but lets sidecars restart', () => {
    const old = st([], [terminated('init', 0), terminated('side', 0)]);
    const sideBack = st([], [terminated('init', 0), running('side')]);
    expect(checkContainerStateTransition(old, sideBack, spec('Never'))).toBeUndefined();
    const initBack = st([], [running('init'), running('side')]);
    expect(checkContainerStateTransition(old, initBack, spec('Never'))).toBe(
      'terminated init container init attempted illegal transition to non-terminated state',
    );
  });

  // upstream checkContainerStateTransition with ContainerRestartRules (beta, on)
  it('lets a container restarted by its restartPolicy or restartPolicyRules leave terminated', () => {
    const rule = (values: number[]): Partial<Container> => ({
      restartPolicy: 'Never',
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values } }],
    });
    const never = (a: Container, inits: Container[] = []) => ({
      restartPolicy: 'Never',
      initContainers: inits,
      containers: [a],
    });
    expect(
      checkContainerStateTransition(
        st([terminated('a', 42)]),
        st([running('a')]),
        never(container('a', rule([42]))),
      ),
    ).toBeUndefined();
    expect(
      checkContainerStateTransition(
        st([terminated('a', 1)]),
        st([running('a')]),
        never(container('a', rule([42]))),
      ),
    ).toBe('terminated container a attempted illegal transition to non-terminated state');
    expect(
      checkContainerStateTransition(
        st([terminated('a', 0)]),
        st([running('a')]),
        never(container('a', { restartPolicy: 'Always' })),
      ),
    ).toBeUndefined();
    const initRule = never(container('a'), [container('init', rule([42]))]);
    expect(
      checkContainerStateTransition(st([], [terminated('init', 42)]), st([], [running('init')]), initRule),
    ).toBeUndefined();
  });
});

describe('canBeDeleted', () => {
  const deleting = (phase: string, annotations?: Record<string, string>) =>
    pod({}, { status: { phase }, meta: { deletionTimestamp: T0_S, annotations } });

  it('needs a deletionTimestamp, a terminal API phase and a finished worker', () => {
    expect(canBeDeleted(deleting('Failed'), true)).toBe(true);
    expect(canBeDeleted(deleting('Succeeded'), true)).toBe(true);
    expect(canBeDeleted(deleting('Running'), true)).toBe(false);
    expect(canBeDeleted(deleting('Failed'), false)).toBe(false);
    expect(canBeDeleted(pod({}, { status: { phase: 'Failed' } }), true)).toBe(false);
  });

  it('never deletes mirror pods', () => {
    expect(canBeDeleted(deleting('Failed', { 'kubernetes.io/config.mirror': 'hash' }), true)).toBe(false);
  });
});
