import { CriMock } from '../../src/cri/mock/index.js';
import { criContractSuite } from './suite.js';

// The CRI contract against the in-process mock, in its default containerd-1.6 profile.
criContractSuite('CriMock (containerd-1.6 profile)', async () => {
  const mock = await CriMock.start();
  return { kind: 'mock', endpoint: mock.endpoint, stop: () => mock.stop() };
});
