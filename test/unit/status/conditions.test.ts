import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodCondition, PodStatus } from '../../../src/api/types.js';
import {
  containersReadyCondition,
  forceTerminalReadiness,
  initializedCondition,
  needToReconcilePodReadiness,
  readyCondition,
  readyToStartContainersCondition,
  stampTransitionTimes,
} from '../../../src/status/conditions.js';
import { container, pod, running, sidecar, terminated, waiting } from './fixtures.js';

const ready = (s: ContainerStatus): ContainerStatus => ({ ...s, ready: true });
const started = (s: ContainerStatus): ContainerStatus => ({ ...s, started: true });

describe('ContainersReady', () => {
  const p = pod({
    initContainers: [container('init'), sidecar('side')],
    containers: [container('a'), container('b')],
  });

  it.each<[string, ContainerStatus[] | undefined, string, Partial<PodCondition>]>([
    ['no statuses at all', undefined, 'Running', { status: 'False', reason: 'UnknownContainerStatuses' }],
    [
      'all missing',
      [],
      'Pending',
      {
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unknown status: [side a b]',
      },
    ],
    [
      'unready, sidecar first',
      [ready(running('side')), running('a'), running('b')],
      'Running',
      { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a b]' },
    ],
    [
      'unknown and unready',
      [running('side'), ready(running('a'))],
      'Running',
      {
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unknown status: [b], containers with unready status: [side]',
      },
    ],
    [
      'all ready',
      [ready(running('side')), ready(running('a')), ready(running('b'))],
      'Running',
      { status: 'True' },
    ],
    [
      'succeeded',
      [terminated('side', 0), terminated('a', 0), terminated('b', 0)],
      'Succeeded',
      { status: 'False', reason: 'PodCompleted' },
    ],
    ['failed', [ready(running('a'))], 'Failed', { status: 'False', reason: 'PodFailed' }],
    [
      'succeeded with an unknown container is not PodCompleted',
      [terminated('a', 0)],
      'Succeeded',
      {
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unknown status: [side b], containers with unready status: [a]',
      },
    ],
  ])('%s', (_, statuses, phase, want) => {
    const c = containersReadyCondition(p, statuses, phase);
    expect(c).toEqual({ type: 'ContainersReady', observedGeneration: 3, ...want });
  });

  it('regular init containers do not count', () => {
    const q = pod({ initContainers: [container('init')], containers: [container('a')] });
    expect(containersReadyCondition(q, [waiting('init'), ready(running('a'))], 'Running').status).toBe(
      'True',
    );
  });
});

describe('Ready', () => {
  const gated = pod({
    containers: [container('a')],
    readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
  });
  const allReady = [ready(running('a'))];

  it('copies ContainersReady when that is not True', () => {
    expect(readyCondition(gated, [], [running('a')], 'Running')).toEqual({
      type: 'Ready',
      observedGeneration: 3,
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [a]',
    });
  });

  it('reports readiness gates that do not exist or are not True', () => {
    const conditions: PodCondition[] = [{ type: 'example.com/dns', status: 'False' }];
    expect(readyCondition(gated, conditions, allReady, 'Running')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message:
        'corresponding condition of pod readiness gate "example.com/lb" does not exist., ' +
        'the status of pod readiness gate "example.com/dns" is not "True", but False',
    });
  });

  it('is True when containers are ready and every gate is True', () => {
    const conditions: PodCondition[] = [
      { type: 'example.com/dns', status: 'True' },
      { type: 'example.com/lb', status: 'True' },
    ];
    expect(readyCondition(gated, conditions, allReady, 'Running')).toEqual({
      type: 'Ready',
      observedGeneration: 3,
      status: 'True',
    });
  });
});

// upstream status_manager.go NeedToReconcilePodReadiness (and TestNeedToReconcilePodReadiness)
describe('needToReconcilePodReadiness', () => {
  const spec = {
    containers: [container('a')],
    readinessGates: [
      { conditionType: 'k8s.io/test-condition1' },
      { conditionType: 'k8s.io/test-condition2' },
    ],
  };
  const notReady: PodCondition = {
    type: 'Ready',
    status: 'False',
    reason: 'ReadinessGatesNotReady',
    message:
      'corresponding condition of pod readiness gate "k8s.io/test-condition1" does not exist., ' +
      'corresponding condition of pod readiness gate "k8s.io/test-condition2" does not exist.',
  };
  const withConditions = (conditions: PodCondition[]) =>
    pod(spec, { status: { phase: 'Running', conditions, containerStatuses: [ready(running('a'))] } });

  it('is false without readiness gates or without a Ready condition', () => {
    expect(needToReconcilePodReadiness(pod({ containers: [container('a')] }))).toBe(false);
    expect(needToReconcilePodReadiness(withConditions([]))).toBe(false);
  });

  it('is false while the API Ready condition matches the gates', () => {
    expect(needToReconcilePodReadiness(withConditions([notReady]))).toBe(false);
  });

  it('is true once a gate condition changed the expected message or status', () => {
    const gate1: PodCondition = { type: 'k8s.io/test-condition1', status: 'True' };
    expect(needToReconcilePodReadiness(withConditions([notReady, gate1]))).toBe(true);
    const gate2: PodCondition = { type: 'k8s.io/test-condition2', status: 'True' };
    expect(needToReconcilePodReadiness(withConditions([notReady, gate1, gate2]))).toBe(true);
    const readyTrue: PodCondition = { type: 'Ready', status: 'True' };
    expect(needToReconcilePodReadiness(withConditions([readyTrue, gate1, gate2]))).toBe(false);
    expect(
      needToReconcilePodReadiness(withConditions([readyTrue, { ...gate1, status: 'False' }, gate2])),
    ).toBe(true);
  });
});

describe('Initialized', () => {
  const p = pod({
    initContainers: [container('i1'), sidecar('s'), container('i2')],
    containers: [container('a')],
  });

  it.each<[string, ContainerStatus[] | undefined, string, Partial<PodCondition>]>([
    ['no statuses', undefined, 'Pending', { status: 'False', reason: 'UnknownContainerStatuses' }],
    [
      'nothing done',
      [waiting('i1'), waiting('s'), waiting('i2'), waiting('a')],
      'Pending',
      {
        status: 'False',
        reason: 'ContainersNotInitialized',
        message: 'containers with incomplete status: [i1 s i2]',
      },
    ],
    [
      'unknown and incomplete',
      [ready(terminated('i1', 0)), running('s')],
      'Pending',
      {
        status: 'False',
        reason: 'ContainersNotInitialized',
        message: 'containers with unknown status: [i2], containers with incomplete status: [s]',
      },
    ],
    [
      'regular init ready and sidecar started',
      [ready(terminated('i1', 0)), started(running('s')), ready(terminated('i2', 0)), waiting('a')],
      'Pending',
      { status: 'True' },
    ],
    ['a regular container has started', [waiting('i1'), running('a')], 'Running', { status: 'True' }],
    [
      'succeeded',
      [terminated('i1', 0), terminated('s', 0), terminated('i2', 0), terminated('a', 0)],
      'Succeeded',
      { status: 'True', reason: 'PodCompleted' },
    ],
  ])('%s', (_, statuses, phase, want) => {
    expect(initializedCondition(p, statuses, phase)).toEqual({
      type: 'Initialized',
      observedGeneration: 3,
      ...want,
    });
  });

  it('is True without init containers', () => {
    expect(initializedCondition(pod(), undefined, 'Pending').status).toBe('True');
  });
});

describe('PodReadyToStartContainers', () => {
  it('is True with a usable sandbox, else False with PodSandboxNotReady', () => {
    expect(readyToStartContainersCondition(pod(), true)).toEqual({
      type: 'PodReadyToStartContainers',
      observedGeneration: 3,
      status: 'True',
    });
    expect(readyToStartContainersCondition(pod(), false, 'no pod sandbox exists')).toEqual({
      type: 'PodReadyToStartContainers',
      observedGeneration: 3,
      status: 'False',
      reason: 'PodSandboxNotReady',
      message: 'no pod sandbox exists',
    });
  });

  it('omits observedGeneration when the pod has no generation', () => {
    const p = pod();
    delete p.metadata?.generation;
    expect(readyToStartContainersCondition(p, true)).toEqual({
      type: 'PodReadyToStartContainers',
      status: 'True',
    });
  });
});

describe('lastTransitionTime', () => {
  const old: PodStatus = {
    conditions: [
      { type: 'Ready', status: 'False', lastTransitionTime: 'T-old' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T-sched' },
      { type: 'DisruptionTarget', status: 'True', lastTransitionTime: 'T-dt' },
    ],
  };

  it('changes only when the status changes, and never for foreign conditions', () => {
    const s: PodStatus = {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
        { type: 'DisruptionTarget', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'example.com/gate', status: 'True', lastTransitionTime: 'T-foreign' },
      ],
    };
    stampTransitionTimes(s, old, 'T-now');
    expect(s.conditions?.map((c) => c.lastTransitionTime)).toEqual([
      'T-now',
      'T-sched',
      'T-dt',
      'T-now',
      'T-foreign',
    ]);
  });

  it('forces Ready and ContainersReady False in a terminal phase', () => {
    const s: PodStatus = {
      phase: 'Failed',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: 'T1' },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: 'T2' },
      ],
    };
    forceTerminalReadiness(pod(), s, 'T-now');
    expect(s.conditions).toEqual([
      {
        type: 'Ready',
        observedGeneration: 3,
        status: 'False',
        reason: 'PodFailed',
        lastTransitionTime: 'T-now',
      },
      {
        type: 'ContainersReady',
        observedGeneration: 3,
        status: 'False',
        reason: 'PodFailed',
        lastTransitionTime: 'T2',
      },
    ]);
  });
});
