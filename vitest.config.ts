import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no external process (pure code, fake cgroupfs, the in-process CRI
// mock); `integration` runs against the real containerd and control plane that hack/ starts
// (its global setup brings them up idempotently and fails loudly when it cannot).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/contract/mock.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/contract/containerd.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // One containerd and one control plane are shared: files run one at a time.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
