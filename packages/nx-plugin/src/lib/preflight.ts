/**
 * What must hold before any stage touches the release folder: the release has
 * one version, and a tag at HEAD names that version. It runs first on every
 * run (never cached): a failure here leaves dist/release as it was.
 */
import { ReleaseError } from '@helix-release/core';
import { DSSE_SUFFIX, PLUGINS_DIR, SIGNATURE_SUFFIX, sbomNames } from '@helix-release/format';

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

/**
 * The release records the commit it was built from; without one (no `.git`,
 * or a repository with no commit yet) it would claim a clean build of
 * nothing. `commit` is what readGitState read at HEAD ('' when none).
 */
export function checkSourceCommit(commit: string, workspaceRoot: string): void {
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return;
  throw new ReleaseError(
    'SOURCE_COMMIT_MISSING',
    'no git commit at HEAD: a release records the commit it was built from (its provenance and BUILD_META.txt), so it is built in a git checkout; ' +
      'commit the workspace first (git init && git add -A && git commit), or build from a clone of the repository',
    { file: workspaceRoot },
  );
}

/**
 * Two artifacts whose release paths differ only in case or Unicode form
 * (`plugins/hello-1.0.0.zip`, `plugins/Hello-1.0.0.zip`) would overwrite each
 * other on macOS and Windows, and in any zip of the release: refused, naming
 * both and the config.
 */
export function checkArtifactNames(artifacts: readonly { artifact: string }[], configFile: string): void {
  const seen = new Map<string, string>();
  for (const { artifact } of artifacts) {
    const key = artifact.normalize('NFC').toLowerCase();
    const other = seen.get(key);
    if (other !== undefined && other !== artifact) {
      throw new ReleaseError(
        'ARTIFACT_NAME_CLASH',
        `${other} and ${artifact} differ only in case or Unicode form: on macOS and Windows one would overwrite the other; rename one of the projects (its name in pyproject.toml or plugin.json)`,
        { file: configFile },
      );
    }
    seen.set(key, artifact);
  }
}

/** An installer or plugin the workspace builds now, as the nx-plugin inferred it. */
export interface CurrentArtifact {
  kind: 'app' | 'plugin';
  /** The app's project name, or the plugin's name. */
  name: string;
  /** Its release path (`<name>-<version>-<platform>.zip`, `plugins/<name>-<version>.zip`). */
  artifact: string;
}

/** `text` as a regular expression (JavaScript's or grep -E's) that matches just it. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The files of the release folder that an earlier version of a current app
 * or plugin left: its installer for this platform or its plugin zip under
 * another version, and their SBOMs and signatures. A version bump then
 * needs no manual clean-up, while a file no stage makes is still a stray
 * (SIGN_STRAY_FILE). A version is what follows `<name>-` up to the platform
 * (or `.zip`), starting with a digit and holding no `-` or `/`, so that
 * `helix-1.0-…` is never taken for `helix-studio-…`.
 */
export function supersededFiles(releaseFiles: readonly string[], current: readonly CurrentArtifact[], platform: string): string[] {
  const VERSION = '[0-9][A-Za-z0-9._+]*';
  const superseded = new Set<string>();
  for (const a of current) {
    const pattern = a.kind === 'app' ? new RegExp(`^${escapeRegExp(a.name)}-${VERSION}-${escapeRegExp(platform)}\\.zip$`) : new RegExp(`^${PLUGINS_DIR}/${escapeRegExp(a.name)}-${VERSION}\\.zip$`);
    for (const file of releaseFiles) if (file !== a.artifact && pattern.test(file)) superseded.add(file);
  }
  const related = [...superseded].flatMap((file) => [file, ...sbomNames(file)]).flatMap((file) => [file, `${file}${SIGNATURE_SUFFIX}`, `${file}${DSSE_SUFFIX}`]);
  const present = new Set(releaseFiles);
  return related.filter((file) => present.has(file)).sort();
}
