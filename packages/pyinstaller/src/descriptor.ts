import { appEnv, configDigest, type StageDescriptor } from '@helix-release/core';

/** Stage `package`'s contract: per app, after its lock; builds the installer zip. */
export const packageDescriptor: StageDescriptor = {
  name: 'package',
  executor: '@helix-release/pyinstaller:package',
  package: '@helix-release/pyinstaller',
  scope: 'app',
  after: ['lock'],
  toolchain: true,
  buildsArtifacts: true,
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: false,
  writes: ({ project }) => (project ? [project.artifact] : []),
  inputs: ({ config }) => ['{projectRoot}/**/*', '!{projectRoot}/tests/**/*', ...(config.trustStore ? [`{workspaceRoot}/${config.trustStore}`] : []), 'toolchainPins', 'sourceDateEpoch'],
  options: ({ config, project }) => ({ spec: project?.spec, configDigest: configDigest({ python: config.python, releaseDir: config.releaseDir, env: project ? appEnv(config, project.name) : {} }) }),
  description: ({ project }) => `Build ${project?.artifact} with PyInstaller from a clean, hash-locked environment.`,
  // The trust store is bundled into the Studio.
  clockFiles: ({ config }) => (config.trustStore ? [config.trustStore] : []),
};
