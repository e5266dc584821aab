import { configDigest, type StageDescriptor } from '@helix-release/core';
import { sbomNames } from '@helix-release/format';

/**
 * Stage `artifact-sbom`'s contract: per app and per plugin, after the build;
 * the SBOM of that one artifact, cached per artifact and dated by its own
 * clock, so that a change to one artifact re-describes only that one.
 */
export const artifactSbomDescriptor: StageDescriptor = {
  name: 'artifact-sbom',
  executor: '@helix-release/sbom:artifact-sbom',
  package: '@helix-release/sbom',
  scope: 'artifact',
  after: ['package', 'plugin-zip'],
  toolchain: true,
  reads: ['lock'],
  describesArtifact: true,
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: false,
  writes: ({ project }) => (project ? sbomNames(project.artifact) : []),
  inputs: () => ['toolchainPins', 'sourceDateEpoch'],
  options: ({ config }) => ({ configDigest: configDigest({ python: config.python, releaseDir: config.releaseDir, organization: config.organization }) }),
  description: ({ project }) => `The SBOMs of ${project?.artifact} with syft (SPDX 2.3, and CycloneDX 1.6 from the same document), cross-checked against the lock.`,
};

/** Stage `sbom`'s contract: after conformance; one SBOM per artifact (the projects', or its own), cross-checked against each app's lock. */
export const sbomDescriptor: StageDescriptor = {
  name: 'sbom',
  executor: '@helix-release/sbom:sbom',
  package: '@helix-release/sbom',
  scope: 'release',
  after: ['conformance', 'artifact-sbom'],
  toolchain: true,
  reads: ['lock', 'artifact-sbom'],
  evidence: 'artifacts',
  cache: true,
  readsWholeConfig: true,
  writes: () => sbomNames('*'),
  inputs: () => ['toolchainPins', 'sourceDateEpoch'],
  description: () => 'Two SBOMs per artifact (SPDX, CycloneDX): takes over the per-artifact SBOMs, runs syft for any artifact no project described.',
};
