/**
 * The plan: the built-in stages in run order, one descriptor each (see
 * StageDescriptor in @helix-release/core). Adding a built-in stage is its own
 * package plus one line here; custom stages come from release.config.ts.
 */
import type { StageDescriptor } from '@helix-release/core';
import { buildMetaDescriptor } from '@helix-release/build-meta/src/descriptor';
import { checksumsDescriptor } from '@helix-release/checksums/src/descriptor';
import { appConformanceDescriptor, conformanceDescriptor } from '@helix-release/conformance/src/descriptor';
import { lockDescriptor } from '@helix-release/lockfile/src/descriptor';
import { pluginZipDescriptor } from '@helix-release/plugin-zip/src/descriptor';
import { provenanceDescriptor } from '@helix-release/provenance/src/descriptor';
import { packageDescriptor } from '@helix-release/pyinstaller/src/descriptor';
import { artifactSbomDescriptor, sbomDescriptor } from '@helix-release/sbom/src/descriptor';
import { signDescriptor } from '@helix-release/sign/src/descriptor';

/** The built-in stages, in the order the release runs them. */
export const BUILT_IN_STAGES: readonly StageDescriptor[] = [
  lockDescriptor,
  packageDescriptor,
  pluginZipDescriptor,
  appConformanceDescriptor,
  conformanceDescriptor,
  artifactSbomDescriptor,
  sbomDescriptor,
  checksumsDescriptor,
  buildMetaDescriptor,
  provenanceDescriptor,
  signDescriptor,
];
