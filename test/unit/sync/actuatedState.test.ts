import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ActuatedState,
  CheckpointError,
  checkpointChecksum,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../../src/sync/actuatedState.js';

// Expected bytes and checksums printed by the upstream code at v1.37.2
// (pkg/kubelet/allocation/state.NewCheckpoint + MarshalCheckpoint, checkpointmanager/checksum.New);
// upstream's NewStateCheckpoint read the same bytes back (cpu 10m, memory 16Mi / 64Mi).
const UPSTREAM_FILE =
  '{"data":"{\\"entries\\":{\\"u1\\":{\\"ContainerResources\\":{\\"app\\":{\\"limits\\":{\\"memory\\":\\"64Mi\\"},\\"requests\\":{\\"cpu\\":\\"10m\\",\\"memory\\":\\"16Mi\\"}},\\"init\\":{}},\\"PodLevelResources\\":null,\\"EmptyDirVolumeLimits\\":null}}}","checksum":2246511881}';
const UPSTREAM_EMPTY = '{"data":"{}","checksum":694314937}';

describe('actuated_pods_state (upstream checkpoint format)', () => {
  it('checksums data as upstream', () => {
    expect(checkpointChecksum('{"entries":{}}')).toBe(1057365947);
    expect(checkpointChecksum('a"b\\c<>&é')).toBe(2386692247);
  });

  it('encodes byte for byte as upstream', () => {
    expect(
      encodeCheckpoint({
        u1: {
          ContainerResources: {
            init: {},
            app: { requests: { memory: '16Mi', cpu: '10m' }, limits: { memory: '64Mi' } },
          },
          PodLevelResources: null,
          EmptyDirVolumeLimits: null,
        },
      }),
    ).toBe(UPSTREAM_FILE);
    expect(encodeCheckpoint({})).toBe(UPSTREAM_EMPTY);
  });

  it('reads upstream files and refuses a corrupt one', () => {
    expect(decodeCheckpoint(UPSTREAM_FILE).u1?.ContainerResources.app).toEqual({
      limits: { memory: '64Mi' },
      requests: { cpu: '10m', memory: '16Mi' },
    });
    expect(decodeCheckpoint(UPSTREAM_EMPTY)).toEqual({});
    expect(() => decodeCheckpoint(UPSTREAM_FILE.replace('2246511881', '1'))).toThrow(CheckpointError);
  });

  describe('ActuatedState', () => {
    let dir = '';
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('keeps what another kubelet recorded, adds created containers, drops removed pods', async () => {
      dir = await mkdtemp(join(tmpdir(), 'kts-actuated-'));
      await writeFile(join(dir, 'actuated_pods_state'), UPSTREAM_FILE);
      const st = new ActuatedState(dir);
      await st.load();
      await st.setContainerResources('u2', 'app', {
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
      });
      await st.setContainerResources('u2', 'init', {});
      const both = decodeCheckpoint(await readFile(join(dir, 'actuated_pods_state'), 'utf8'));
      expect(Object.keys(both).sort()).toEqual(['u1', 'u2']);
      expect(both.u2).toEqual(both.u1);
      await st.removePod('u2');
      expect(await readFile(join(dir, 'actuated_pods_state'), 'utf8')).toBe(UPSTREAM_FILE);
    });
  });
});
