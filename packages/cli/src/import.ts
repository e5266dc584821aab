/**
 * `helix-release import`: makes a release of artifact files built elsewhere
 * (for example the Windows and macOS zips CI builds), for
 * tools/release_local.sh. The release folder is emptied first and the files
 * are copied in with the import record `imported/import`, which the import
 * variant of the plan hands the release-level stages instead of the build
 * records (HELIX_RELEASE_IMPORT=1 selects that variant).
 */
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  IMPORT_RECORD,
  ReleaseError,
  manifestDir,
  parseRecordRef,
  readZipDirectory,
  sha256File,
  writeStageRecord,
  type ImportRecordData,
  type ReleaseArtifact,
  type ResolvedConfig,
} from '@helix-release/core';
import { PLUGINS_DIR, SIGNATURE_ENTRY, checkReleasePath } from '@helix-release/format';

/** An installer zip's name: `<app>-<version>-<platform>.zip`. */
export const INSTALLER_NAME = /^(.+)-(\d[^-]*)-((?:linux|windows|macos)-[A-Za-z0-9_]+)\.zip$/;

async function isPluginZip(file: string): Promise<boolean> {
  if (!file.endsWith('.zip')) return false;
  try {
    const names = readZipDirectory(await readFile(file), file).map((e) => e.name);
    return names.includes('plugin.json') && names.includes(SIGNATURE_ENTRY);
  } catch {
    return false;
  }
}

/** Classifies and copies `files` into the release folder; writes the import record. */
export async function importArtifacts(workspaceRoot: string, config: ResolvedConfig, files: readonly string[]): Promise<ReleaseArtifact[]> {
  const artifacts: ReleaseArtifact[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const name = basename(file);
    if (/[\\/\n\r]/.test(name) || name !== file.split(/[\\/]/).pop()) {
      throw new ReleaseError('IMPORT_BAD_NAME', 'an artifact name may not contain a path separator or a line break; rename the file', { file: JSON.stringify(file) });
    }
    const problem = checkReleasePath(name);
    if (problem) throw new ReleaseError('IMPORT_BAD_NAME', `${problem}; rename the file`, { file });
    let info;
    try {
      info = await stat(file);
    } catch (cause) {
      throw new ReleaseError('IMPORT_MISSING', 'no such artifact; check the path', { file, cause });
    }
    if (!info.isFile()) throw new ReleaseError('IMPORT_MISSING', 'not a regular file', { file });
    const installer = INSTALLER_NAME.exec(name);
    const plugin = !installer && (await isPluginZip(file));
    const path = plugin ? `${PLUGINS_DIR}/${name}` : name;
    if (seen.has(path)) throw new ReleaseError('IMPORT_BAD_NAME', `two artifacts are both called ${name}`, { file });
    seen.add(path);
    artifacts.push({
      path,
      kind: installer ? 'installer' : plugin ? 'plugin' : 'custom',
      sha256: await sha256File(file),
      size: info.size,
      sbom: true,
      ...(installer ? { name: installer[1]!, version: installer[2]!, platform: installer[3]! } : {}),
    });
  }
  const releaseDir = join(workspaceRoot, config.releaseDir);
  // Copy the files aside first: an artifact may lie in the release folder
  // (e.g. dist/release/<app>.zip of a local build), which is emptied below.
  await mkdir(dirname(releaseDir), { recursive: true });
  const staging = await mkdtemp(join(dirname(releaseDir), '.helix-import-'));
  try {
    for (const i of artifacts.keys()) await copyFile(files[i]!, join(staging, String(i)));
    // A fresh release: nothing of an earlier build may be mixed in.
    await rm(releaseDir, { recursive: true, force: true });
    await rm(manifestDir(workspaceRoot), { recursive: true, force: true });
    for (const [i, artifact] of artifacts.entries()) {
      const target = join(releaseDir, artifact.path);
      await mkdir(dirname(target), { recursive: true });
      await rename(join(staging, String(i)), target);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const { project, stage } = parseRecordRef(IMPORT_RECORD);
  const data: ImportRecordData = { imported: artifacts.length };
  await writeStageRecord(workspaceRoot, { project, stage, artifacts, data });
  return artifacts;
}
