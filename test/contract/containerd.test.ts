import { containerdEndpoint } from '../helpers/env.js';
import { criContractSuite } from './suite.js';

// The CRI contract against the real containerd that the integration global setup starts
// (hack/containerd.sh). Never skipped: when containerd does not answer, the suite's beforeAll
// (waitForReady) throws and every test fails with CriUnavailableError.
criContractSuite('containerd', async () => ({
  kind: 'containerd',
  endpoint: containerdEndpoint,
  stop: async () => {},
}));
