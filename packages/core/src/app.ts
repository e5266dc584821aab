/**
 * What a PyInstaller app is called: `[project] name` and `version` of its
 * pyproject.toml, and the artifact name derived from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
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
