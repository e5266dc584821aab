/**
 * Stage `checksums`: SHA256SUMS.txt over every file the release's stages
 * recorded (artifacts, SBOMs, conformance results, custom outputs, shipped
 * verification tools). Files are hashed by streaming, several at once; each
 * digest must equal the one its stage recorded. A file in the release folder
 * that no stage produced is an error (it would ship unaccounted for).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  describeReleaseFile,
  evictCachedCopies,
  evictionNote,
  sha256Files,
  unaccountedFiles,
  writeFileAtomic,
  writeStageRecord,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { RELEASE_FILES, formatSums } from '@helix-release/format';
import { ChecksumsError } from './errors';


/** Runs the stage. */
export async function checksumsStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact> {
  const out = join(ctx.releaseDir, RELEASE_FILES.sums);
  await rm(out, { force: true });
  // Existence and size here; the digests below, once per file, in parallel.
  const artifacts = await records.checked(ctx.releaseDir, { hash: false });
  if (artifacts.length === 0) {
    throw new ChecksumsError('CHECKSUMS_EMPTY', 'the release has no files to list; build something first (npx nx run release:all)', { file: ctx.releaseDir });
  }
  // A temp file may belong to a stage still writing beside this one; sign, the last stage, sweeps leftovers.
  const stray = (await unaccountedFiles(ctx.releaseDir, new Set(artifacts.map((a) => a.path)))).strays;
  if (stray.length) {
    throw new ChecksumsError(
      'CHECKSUMS_STRAY_FILE',
      `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} in the release folder but no stage of this release produced ${stray.length === 1 ? 'it' : 'them'} (left from an earlier build?); remove ${stray.length === 1 ? 'it' : 'them'} or run \`npx nx run release:clean\` and build again`,
      { file: join(ctx.releaseDir, stray[0]!) },
    );
  }
  const digests = await sha256Files(artifacts.map((a) => join(ctx.releaseDir, a.path)));
  const changed = artifacts.findIndex((a, i) => digests[i] !== a.sha256);
  if (changed >= 0) {
    const file = join(ctx.releaseDir, artifacts[changed]!.path);
    const evicted = await evictCachedCopies(ctx.workspaceRoot, file);
    throw new ChecksumsError('CHECKSUMS_CHANGED', `changed since its stage recorded sha256 ${artifacts[changed]!.sha256}${evictionNote(evicted)}; re-run the release`, { file });
  }
  await writeFileAtomic(out, formatSums(artifacts.map((a, i) => ({ path: a.path, sha256: digests[i]! }))));
  const artifact = await describeReleaseFile(ctx.releaseDir, RELEASE_FILES.sums, 'checksums');
  await writeStageRecord(ctx.workspaceRoot, { stage: 'checksums', project: ctx.project, artifacts: [artifact] });
  ctx.logger.info(`${RELEASE_FILES.sums}: ${artifacts.length} files`);
  return artifact;
}
