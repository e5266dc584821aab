import { ownFileInput, type StageDescriptor } from '@helix-release/core';
import { packSources } from './lib/pack';
import { KIT_TOOLS, PACK_DIR, RELEASE_FILES, TRUST_STORE_FILE } from '@helix-release/format';

/** Stage `conformance`'s contract: after the builds; runs the pack, ships the verification kit. */
export const conformanceDescriptor: StageDescriptor = {
  name: 'conformance',
  executor: '@helix-release/conformance:conformance',
  package: '@helix-release/conformance',
  scope: 'release',
  after: ['package', 'plugin-zip'],
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: true,
  writes: ({ config }) => [RELEASE_FILES.conformanceResults, RELEASE_FILES.conformanceLog, 'tools', PACK_DIR, ...(config.trustStore ? [TRUST_STORE_FILE] : [])],
  inputs: ({ config }) => [
    ...packSources(config).map((source) => `{workspaceRoot}/${source.dir}/**/*`),
    ...(config.trustStore ? [`{workspaceRoot}/${config.trustStore}`] : []),
    ...KIT_TOOLS.map((tool) => ownFileInput(tool)),
    'sourceDateEpoch',
  ],
  description: () => 'Run the conformance pack against the built Studio and plugins.',
};
