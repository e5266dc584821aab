/**
 * What a PyInstaller app is called: `[project] name` and `version` of its
 * pyproject.toml, and the artifact name derived from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { ResolvedConfig } from './config';
import { ReleaseError } from './errors';

/** Name and version of an app. */
export interface AppMetadata {
  name: string;
  version: string;
}

/** Reads `<root>/pyproject.toml` (root relative to the workspace). */
export function readAppMetadata(workspaceRoot: string, root: string): AppMetadata {
  const file = `${root}/pyproject.toml`;
  let text: string;
  try {
    text = readFileSync(join(workspaceRoot, file), 'utf8');
  } catch (cause) {
    throw new ReleaseError('CONFIG_INVALID', 'a PyInstaller app needs a pyproject.toml with [project] name and version', { file, cause });
  }
  let project: { name?: unknown; version?: unknown } | undefined;
  try {
    project = (parseToml(text) as { project?: typeof project }).project;
  } catch (cause) {
    throw new ReleaseError('CONFIG_INVALID', `not valid TOML: ${(cause as Error).message}`, { file, cause });
  }
  const ok = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(v);
  if (!ok(project?.name) || !ok(project?.version)) {
    throw new ReleaseError('CONFIG_INVALID', '[project] needs a static name and version (the artifact is named after them)', { file });
  }
  return { name: project.name, version: project.version };
}

/** `<name>-<version>-<platform>.zip` */
export function installerArtifactName(meta: AppMetadata, platform: string): string {
  return `${meta.name}-${meta.version}-${platform}.zip`;
}

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

/**
 * The release's version for the evidence stages, from the installers it
 * holds (built or imported): `version` of the config, else their one
 * version. The preflight has refused a release whose apps disagree.
 */
export function releaseVersionOf(config: ResolvedConfig, artifacts: readonly { kind: string; name?: string; version?: string }[]): string {
  const apps = artifacts.filter((a) => a.kind === 'installer' && a.version).map((a) => ({ project: a.name ?? '?', version: a.version! }));
  return config.version ?? (apps.length ? releaseVersion(config, apps) : 'unknown');
}
