import { configDigest, type StageDescriptor } from '@helix-release/core';

/** Stage `plugin-zip`'s contract: per plugin; builds and signs the plugin zip. */
export const pluginZipDescriptor: StageDescriptor = {
  name: 'plugin-zip',
  executor: '@helix-release/plugin-zip:plugin-zip',
  package: '@helix-release/plugin-zip',
  scope: 'plugin',
  after: [],
  buildsArtifacts: true,
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: false,
  writes: ({ project }) => (project ? [project.artifact] : []),
  inputs: ({ config }) => [
    '{projectRoot}/**/*',
    'sourceDateEpoch',
    // The key's public half only: the secret never reaches the cache key.
    'pluginSigningKeyId',
    ...(config.plugins?.developmentKeyFile ? [`{workspaceRoot}/${config.plugins.developmentKeyFile}`] : []),
  ],
  options: ({ config }) => ({ configDigest: configDigest({ plugins: config.plugins, releaseDir: config.releaseDir }) }),
  description: ({ project }) => `Build and sign ${project?.artifact} reproducibly.`,
  clockFiles: ({ config }) => (config.plugins?.developmentKeyFile ? [config.plugins.developmentKeyFile] : []),
};
