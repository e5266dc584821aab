import type { StageDescriptor } from '@helix-release/core';
import { sbomName } from '@helix-release/format';

/** Stage `sbom`'s contract: after conformance; one SBOM per artifact, cross-checked against each app's lock. */
export const sbomDescriptor: StageDescriptor = {
  name: 'sbom',
  executor: '@helix-release/sbom:sbom',
  package: '@helix-release/sbom',
  scope: 'release',
  after: ['conformance'],
  toolchain: true,
  reads: ['lock'],
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: true,
  writes: () => [sbomName('*')],
  inputs: () => ['toolchainPins', 'sourceDateEpoch'],
  description: () => 'One deterministic SPDX 2.3 SBOM per artifact with syft, cross-checked against the lock.',
};
