/**
 * What must hold before any stage touches the release folder: the release has
 * one version, and a tag at HEAD names that version. It runs first on every
 * run (never cached): a failure here leaves dist/release as it was.
 */
import { ReleaseError } from '@helix-release/core';

export { releaseVersion, type AppVersion } from '@helix-release/core';

/** RELEASE_TAG_MISMATCH unless the tag at HEAD (if any) is `version` or `v<version>`. */
export function checkReleaseTag(tag: string | undefined, version: string, configFile: string): void {
  if (tag === undefined || tag === version || tag === `v${version}`) return;
  throw new ReleaseError(
    'RELEASE_TAG_MISMATCH',
    `HEAD is tagged ${tag}, but the release version is ${version}: a tag build publishes under its tag; tag the commit v${version}, or bump the version (the app's pyproject.toml, or version in ${configFile}) and tag that`,
    { file: configFile },
  );
}
