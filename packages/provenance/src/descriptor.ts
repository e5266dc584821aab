import type { StageDescriptor } from '@helix-release/core';
import { RELEASE_FILES } from '@helix-release/format';

/** Stage `provenance`'s contract: after the sums and BUILD_META; the in-toto statement. */
export const provenanceDescriptor: StageDescriptor = {
  name: 'provenance',
  executor: '@helix-release/provenance:provenance',
  package: '@helix-release/provenance',
  scope: 'release',
  after: ['checksums', 'build-meta'],
  reads: ['lock'],
  evidence: 'provenance',
  cache: true,
  readsWholeConfig: true,
  writes: () => [RELEASE_FILES.provenance],
  inputs: () => ['toolchainPins', 'sourceDateEpoch', 'gitState', 'ciEnvironment'],
  // The statement records the targets of the plan that made the release.
  options: ({ plans }) => ({ targets: plans?.build.stageTargets ?? [], importTargets: plans?.import.stageTargets ?? [] }),
  description: () => 'The in-toto SLSA v1 provenance statement.',
};
