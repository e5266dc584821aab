/**
 * What a custom stage's executor gets from the release, and a helper to read
 * it. The release runs a custom stage through @helix-release/nx-plugin's
 * `custom-stage` executor, which sets these variables, runs the team's
 * executor, then checks that it wrote exactly its declared outputs: nothing
 * else in the release folder, no stage record (dist/manifest), no file of
 * dist/work, no other file of the workspace, git-ignored or not. Temporary
 * files go to `os.tmpdir()`: while the stage runs, TMPDIR, TMP and TEMP name
 * a fresh folder of its own, removed when it ends.
 */
import { readFile } from 'node:fs/promises';
import { ReleaseError } from './errors';
import type { ReleaseArtifact, StageRecord } from './manifest';
import { CUSTOM_STAGE_ENV } from './stage';

/** The release as a custom stage sees it. */
export interface CustomStageInputs {
  stage: string;
  /** Absolute release folder: write declared outputs here. */
  releaseDir: string;
  /** SOURCE_DATE_EPOCH: the only clock a stage may write. */
  sourceDateEpoch: number;
  /** The release's files so far (installers, plugins, and what earlier stages added). */
  artifacts: ReleaseArtifact[];
  /** The stage records those came from (including, e.g., the lock reports' data). */
  records: StageRecord[];
}

/** Reads the inputs; throws a clear error when not run inside `nx run release:...`. */
export async function readCustomStageInputs(env: NodeJS.ProcessEnv = process.env): Promise<CustomStageInputs> {
  const releaseDir = env[CUSTOM_STAGE_ENV.releaseDir];
  const inputs = env[CUSTOM_STAGE_ENV.inputs];
  const stage = env[CUSTOM_STAGE_ENV.stage];
  if (!releaseDir || !inputs || !stage) {
    const missing = [CUSTOM_STAGE_ENV.releaseDir, CUSTOM_STAGE_ENV.inputs, CUSTOM_STAGE_ENV.stage].filter((name) => !env[name]);
    throw new ReleaseError('CUSTOM_STAGE_CONTEXT', `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: run custom stages through release.config.ts (npx nx run release:<stage>), not directly`);
  }
  let text: string;
  try {
    text = await readFile(inputs, 'utf8');
  } catch (cause) {
    throw new ReleaseError('CUSTOM_STAGE_CONTEXT', `cannot read the stage's inputs (${CUSTOM_STAGE_ENV.inputs}); run the stage through the release again`, { file: inputs, cause });
  }
  const data = JSON.parse(text) as { artifacts: ReleaseArtifact[]; records: StageRecord[] };
  return { stage, releaseDir, sourceDateEpoch: Number(env[CUSTOM_STAGE_ENV.sourceDateEpoch]), artifacts: data.artifacts, records: data.records };
}
