import { appEnv, configDigest, ownFileInput, type StageDescriptor } from '@helix-release/core';
import { packSources } from './lib/pack';
import { RUNNER } from './lib/results';
import { KIT_TOOLS, PACK_DIR, RELEASE_FILES, TRUST_STORE_FILE } from '@helix-release/format';

/**
 * Stage `app-conformance`'s contract: per app, after its installer and every
 * plugin zip; runs the merged pack against them and records the outcome
 * (failed cases too), cached per app. It writes nothing into the release.
 */
export const appConformanceDescriptor: StageDescriptor = {
  name: 'app-conformance',
  executor: '@helix-release/conformance:app-conformance',
  package: '@helix-release/conformance',
  scope: 'app',
  after: ['package'],
  afterEvery: ['plugin-zip'],
  describesArtifact: true,
  cache: true,
  readsWholeConfig: false,
  writes: () => [],
  inputs: ({ config }) => [...packSources(config).map((source) => `{workspaceRoot}/${source.dir}/**/*`), ownFileInput(RUNNER)],
  options: ({ config, project }) => ({ configDigest: configDigest({ packs: packSources(config), env: project ? appEnv(config, project.name) : {}, releaseDir: config.releaseDir }) }),
  description: ({ project }) => `Run the conformance pack against ${project?.artifact} and the plugins; release:conformance publishes the outcome.`,
};

/** Stage `conformance`'s contract: after the builds and the apps' runs; publishes the results, ships the verification kit. */
export const conformanceDescriptor: StageDescriptor = {
  name: 'conformance',
  executor: '@helix-release/conformance:conformance',
  package: '@helix-release/conformance',
  scope: 'release',
  after: ['package', 'plugin-zip', 'app-conformance'],
  reads: ['app-conformance'],
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
  description: () => "Publish the conformance results of the release's installers and plugins (the apps' runs), and ship the verification kit.",
};
