import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/index.js';
import { repoRoot } from '../../helpers/env.js';

describe('deploy/config.yaml', () => {
  it('is a valid KubeletConfiguration with no unknown fields', () => {
    const file = join(repoRoot, 'deploy', 'config.yaml');
    const { config, warnings } = resolveConfig(
      ['--config', file, '--kubeconfig', '/etc/kubelet-ts/kubelet.conf'],
      (p) => readFileSync(p, 'utf8'),
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      cgroupDriver: 'systemd',
      cgroupsPerQOS: true,
      clusterDomain: 'cluster.local',
    });
  });
});
