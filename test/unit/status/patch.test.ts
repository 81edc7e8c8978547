import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodStatus } from '../../../src/api/types.js';
import { canonical, diffMaps, isStatusByKubeletEqual, podStatusPatch } from '../../../src/status/patch.js';

const UID = '6a1f3c0e-0000-4000-8000-000000000001';
const cs = (name: string, ready: boolean): ContainerStatus => ({
  name,
  ready,
  restartCount: 0,
  image: `img/${name}`,
  imageID: '',
  state: { running: { startedAt: '2026-01-02T03:00:00Z' } },
  lastState: {},
});

const base = (): PodStatus => ({
  phase: 'Running',
  qosClass: 'BestEffort',
  hostIP: '192.168.1.10',
  hostIPs: [{ ip: '192.168.1.10' }],
  podIP: '10.0.0.5',
  podIPs: [{ ip: '10.0.0.5' }],
  startTime: '2026-01-02T03:00:00Z',
  conditions: [
    { type: 'example.com/gate', status: 'True', lastTransitionTime: 'T0' },
    { type: 'Initialized', status: 'True', lastTransitionTime: 'T0' },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'm', lastTransitionTime: 'T0' },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' },
  ],
  containerStatuses: [cs('a', false)],
});

describe('podStatusPatch', () => {
  it('is unchanged (only the uid precondition) for equal statuses', () => {
    expect(podStatusPatch(UID, base(), base())).toEqual({
      patch: { metadata: { uid: UID } },
      unchanged: true,
    });
  });

  it('ignores what Go would not marshal: null times, empty strings and lists', () => {
    const api = base() as unknown as Record<string, unknown>;
    const conditions = (api.conditions as Record<string, unknown>[]).map((c) => ({
      ...c,
      lastProbeTime: null,
    }));
    const fromServer = { ...api, conditions, nominatedNodeName: '', ephemeralContainerStatuses: [] };
    expect(podStatusPatch(UID, fromServer as unknown as PodStatus, base()).unchanged).toBe(true);
  });

  it('sets changed scalars and nulls removed ones', () => {
    const old = { ...base(), reason: 'Old', message: 'old message' };
    const next = { ...base(), phase: 'Failed', reason: 'DeadlineExceeded' };
    expect(podStatusPatch(UID, old, next).patch).toEqual({
      metadata: { uid: UID },
      status: { message: null, phase: 'Failed', reason: 'DeadlineExceeded' },
    });
  });

  it('merges conditions by type with $setElementOrder and deletes removed kubelet conditions', () => {
    const next = base();
    next.conditions = [
      { type: 'example.com/gate', status: 'True', lastTransitionTime: 'T0' },
      { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: 'T1' },
      { type: 'Ready', status: 'True', lastTransitionTime: 'T1' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' },
    ];
    expect(podStatusPatch(UID, base(), next).patch).toEqual({
      metadata: { uid: UID },
      status: {
        '$setElementOrder/conditions': [
          { type: 'example.com/gate' },
          { type: 'PodReadyToStartContainers' },
          { type: 'Ready' },
          { type: 'PodScheduled' },
        ],
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: 'T1' },
          { type: 'Ready', status: 'True', reason: null, message: null, lastTransitionTime: 'T1' },
          { $patch: 'delete', type: 'Initialized' },
        ],
      },
    });
  });

  it('serialises with sorted keys, as Go marshals maps', () => {
    const next = base();
    next.conditions = next.conditions?.map((c) =>
      c.type === 'Ready' ? { type: 'Ready', status: 'True', lastTransitionTime: 'T1' } : c,
    );
    expect(JSON.stringify(podStatusPatch(UID, base(), next).patch)).toBe(
      `{"metadata":{"uid":"${UID}"},"status":{"$setElementOrder/conditions":[{"type":"example.com/gate"},` +
        '{"type":"Initialized"},{"type":"Ready"},{"type":"PodScheduled"}],"conditions":[{"lastTransitionTime":"T1",' +
        '"message":null,"reason":null,"status":"True","type":"Ready"}]}}',
    );
  });

  it('sends $setElementOrder alone when only the order changed', () => {
    const next = base();
    next.conditions = [...(next.conditions ?? [])].reverse();
    const { patch } = podStatusPatch(UID, base(), next);
    expect(patch.status).toEqual({
      '$setElementOrder/conditions': [
        { type: 'PodScheduled' },
        { type: 'Ready' },
        { type: 'Initialized' },
        { type: 'example.com/gate' },
      ],
    });
  });

  it('sends the whole list when the old status had none', () => {
    const old = { ...base(), conditions: [] };
    const { patch } = podStatusPatch(UID, old, base());
    expect(patch.status).toEqual({ conditions: canonical(base().conditions) });
  });

  it('replaces containerStatuses wholesale', () => {
    const next = { ...base(), containerStatuses: [cs('a', true), cs('b', true)] };
    expect(podStatusPatch(UID, base(), next).patch.status).toEqual({
      containerStatuses: canonical(next.containerStatuses),
    });
  });

  it('merges podIPs and hostIPs by ip', () => {
    const next = {
      ...base(),
      podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }],
      hostIPs: [{ ip: '192.168.1.11' }],
    };
    expect(podStatusPatch(UID, base(), next).patch.status).toEqual({
      '$setElementOrder/hostIPs': [{ ip: '192.168.1.11' }],
      '$setElementOrder/podIPs': [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }],
      hostIPs: [{ ip: '192.168.1.11' }, { $patch: 'delete', ip: '192.168.1.10' }],
      podIPs: [{ ip: 'fd00::5' }],
    });
  });

  it('nulls a list that disappeared', () => {
    const next = base();
    delete next.podIPs;
    delete next.podIP;
    expect(podStatusPatch(UID, base(), next).patch.status).toEqual({ podIP: null, podIPs: null });
  });
});

describe('diffMaps', () => {
  it('recurses into nested objects and replaces unkeyed lists', () => {
    expect(diffMaps({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: 1, c: 3 }, l: [1] })).toEqual({
      a: { c: 3 },
      l: [1],
    });
  });

  it('replaces values whose type changed', () => {
    expect(diffMaps({ a: { b: 1 } }, { a: 'x' })).toEqual({ a: 'x' });
  });
});

describe('isStatusByKubeletEqual', () => {
  it('ignores transition times of kubelet conditions', () => {
    const next = base();
    next.conditions = next.conditions?.map((c) => ({ ...c, lastTransitionTime: 'T9' }));
    expect(isStatusByKubeletEqual(base(), next)).toBe(true);
  });

  it('sees changed reason or message of kubelet conditions', () => {
    const next = base();
    next.conditions = next.conditions?.map((c) => (c.type === 'Ready' ? { ...c, message: 'other' } : c));
    expect(isStatusByKubeletEqual(base(), next)).toBe(false);
  });

  it('ignores conditions owned by others', () => {
    const old = base();
    old.conditions = old.conditions?.map((c) =>
      c.type === 'example.com/gate' ? { ...c, status: 'False' } : c,
    );
    expect(isStatusByKubeletEqual(old, base())).toBe(true);
  });

  it('sees any other change', () => {
    expect(isStatusByKubeletEqual(base(), { ...base(), containerStatuses: [cs('a', true)] })).toBe(false);
    expect(isStatusByKubeletEqual(base(), { ...base(), podIP: '10.0.0.6' })).toBe(false);
  });
});
