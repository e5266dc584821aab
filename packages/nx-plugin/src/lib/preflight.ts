/**
 * What must hold before any stage touches the release folder: the release has
 * one version, and a tag at HEAD names that version. It runs first on every
 * run (never cached): a failure here leaves dist/release as it was.
 */
import { ReleaseError, type ResolvedConfig } from '@helix-release/core';

/** An app of the workspace with the version its pyproject.toml gives. */
export interface AppVersion {
  project: string;
  version: string;
}

/** The release's version: `version` of the config, else the apps' one version; CONFIG_INVALID when they disagree. */
export function releaseVersion(config: ResolvedConfig, apps: readonly AppVersion[]): string {
  if (config.version) return config.version;
  const versions = [...new Set(apps.map((a) => a.version))].sort();
  if (versions.length === 1) return versions[0]!;
  throw new ReleaseError(
    'CONFIG_INVALID',
    versions.length === 0
      ? 'version: the release has no app to take its version from; set version in release.config.ts'
      : `version: the apps have different versions (${apps.map((a) => `${a.project} ${a.version}`).join(', ')}); set the release's own version in release.config.ts`,
    { file: config.file },
  );
}

/** RELEASE_TAG_MISMATCH unless the tag at HEAD (if any) is `version` or `v<version>`. */
export function checkReleaseTag(tag: string | undefined, version: string, configFile: string): void {
  if (tag === undefined || tag === version || tag === `v${version}`) return;
  throw new ReleaseError(
    'RELEASE_TAG_MISMATCH',
    `HEAD is tagged ${tag}, but the release version is ${version}: a tag build publishes under its tag; tag the commit v${version}, or bump the version (the app's pyproject.toml, or version in ${configFile}) and tag that`,
    { file: configFile },
  );
}
