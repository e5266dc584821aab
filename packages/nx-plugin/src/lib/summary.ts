/**
 * The end of `release:all`: what the run left, where, and whether it may be
 * published. It runs every time (never cached), after sign.
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { formatDuration, readGitState, readTimings, type ReleaseRecords, type StageContext, type TaskTiming } from '@helix-release/core';
import { RELEASE_FILES, parseSums } from '@helix-release/format';

/** The summary lines; `warnings` are the ones a publisher must not miss. */
export interface ReleaseSummary {
  lines: string[];
  warnings: string[];
}

/** The line of this run's task times (a task served from Nx's cache ran nothing and has none). */
export function stageTimes(timings: readonly TaskTiming[]): string {
  const ran = timings.filter((t) => !t.task.endsWith(':all'));
  if (ran.length === 0) return 'times: every stage came from the Nx cache';
  return `times: ${ran.map((t) => `${t.task} ${formatDuration(t.ms)}${t.success ? '' : ' (failed)'}`).join(', ')}; a stage not listed came from the Nx cache`;
}

/** Builds the summary of the release the records describe. */
export async function releaseSummary(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseSummary> {
  const folder = relative(ctx.workspaceRoot, ctx.releaseDir) || '.';
  const sumsText = await readFile(join(ctx.releaseDir, RELEASE_FILES.sums), 'utf8');
  const listed = parseSums(sumsText, RELEASE_FILES.sums).length;
  const kinds = new Map<string, number>();
  for (const a of records.artifacts) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
  const count = (kind: string, one: string, many = `${one}s`) => {
    const n = kinds.get(kind) ?? 0;
    return n ? [`${n} ${n === 1 ? one : many}`] : [];
  };
  const meta = records.of('build-meta')[0]?.data;
  const sign = records.of('sign')[0]?.data;
  const git = await readGitState(ctx.workspaceRoot);
  const lines = [
    `release in ${folder}/ (${ctx.variant === 'import' ? 'imported artifacts' : 'built here'})`,
    `version ${meta?.version ?? 'unknown'}, ${meta?.tagged ? `tag ${meta.tag}` : 'no tag at HEAD'}, commit ${meta?.commit ?? git.commit}, SOURCE_DATE_EPOCH ${ctx.sourceDateEpoch.seconds}`,
    `${listed} files in ${RELEASE_FILES.sums}: ${[...count('installer', 'installer'), ...count('plugin', 'plugin'), ...count('sbom', 'SBOM'), ...count('conformance', 'conformance file'), ...count('tool', 'kit file'), ...count('custom', 'custom output')].join(', ')}`,
    sign?.signed ? `signed by ${sign.fingerprint}${sign.development ? ' (the DEVELOPMENT key)' : ''}` : 'UNSIGNED',
    git.dirty ? `built from a DIRTY tree (${git.changes.slice(0, 5).join(', ')}${git.changes.length > 5 ? ', …' : ''})` : 'built from a clean tree',
    stageTimes(await readTimings(ctx.workspaceRoot)),
    `verify with: npx helix-release verify ${folder} --fingerprint <the published fingerprint>`,
  ];
  const warnings: string[] = [];
  if (!sign?.signed) warnings.push('The release is UNSIGNED: set GPG_PRIVATE_KEY, GPG_PASSPHRASE and GPG_PUBLIC_KEY_FINGERPRINT to sign it.');
  else if (sign.development) warnings.push(`The release is signed with the DEVELOPMENT key ${sign.fingerprint}: do not publish it.`);
  if (git.dirty) warnings.push('The tree has uncommitted changes: the release cannot be rebuilt from its commit; do not publish it.');
  return { lines, warnings };
}
