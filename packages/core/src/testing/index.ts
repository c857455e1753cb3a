/**
 * @cacheforge/core/testing: the kit a format plugin's tests (and the core's) are written with.
 * Nothing here depends on a test runner; the mocha suites that use it (the plugin conformance
 * suite, the fault matrix) are in @cacheforge/conformance.
 *
 *     import { startCacheForge, FakeUpstream } from '@cacheforge/core/testing';
 *     const upstream = await new FakeUpstream().start();
 *     upstream.set('/a.txt', { body: Buffer.from('hello') });
 *     const cf = await startCacheForge({ plugins: ['./my-plugin.js'], remotes: { files: { type: 'mine', upstream: upstream.url } } });
 */
export { startCacheForge, type RunningCacheForge, type HarnessOptions } from './harness.js';
export { testConfig, writeTestConfig, remoteConfig, type ConfigInput, type RemoteInput } from './config.js';
export { FakeUpstream, generated, generatedSlice, generatedSha256, type Behavior, type GeneratedBody, type SeenRequest } from './fake-upstream.js';
export { FaultUpstream, FAULT_MODES, bytesFor, type Fault, type FaultMode, type FaultArtifact } from './fault-upstream.js';
export { request, hashGet, sha256, type Fetched, type HashedResponse } from './http.js';
export { spawnCacheForge, type CliProcess } from './cli-process.js';
export { hasProgram, freePort, run, runClient, clientVersion, Daemon, until, type RunOptions, type ClientRun } from './processes.js';
export { skipMissing, requirePrograms, type Skippable } from './skip.js';
export { waitFor } from './wait.js';
export { LogCapture, type LogLine } from './log-capture.js';
export { ManualClock } from './manual-clock.js';
export { checkContract, classify, describeConfig, withPluginHosts, type Classification } from './unit.js';
