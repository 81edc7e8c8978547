/**
 * The in-process CRI mock (see cri-mock.ts). Tests import from here:
 *
 *   const mock = await CriMock.start();                 // containerd-1.6 profile, local test images
 *   const client = new CriClient({ endpoint: mock.endpoint });
 *   mock.program('web', { log: ['up'], onTerm: { exitCode: 0 } });
 *   mock.faults.inject({ method: 'StartContainer', code: GrpcStatus.UNAVAILABLE, times: 1 });
 *   ...
 *   await mock.stop();
 */
export { status as GrpcStatus } from '@grpc/grpc-js';
export type { ContainerProgram, ExecHandler, ExecResult, ProgramSpec, StatsSpec } from './behaviours.js';
export { CriMock, type CriMockOptions, type RuntimeConditionType } from './cri-mock.js';
export type { FaultSpec, Faults } from './faults.js';
export { LOCAL_TEST_IMAGES, type MockImageSpec, normalizeRef, type PullBehaviour } from './images.js';
export type { Journal, JournalEntry } from './journal.js';
export type { ContainerMatcher, ContainerSelector, ContainerView } from './matchers.js';
export type { CriMethod, CriRequest } from './methods.js';
export { compileArgv, compileScript, parseDuration, type Script } from './programs.js';
export type { MockProfile } from './runtime-service.js';
