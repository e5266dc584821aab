/**
 * readCustomStageInputs: outside `nx run release:<stage>` (any of the three
 * variables the custom-stage executor sets is missing or empty) it fails with
 * CUSTOM_STAGE_CONTEXT; inside, it hands over what the inputs file holds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCustomStageInputs } from './custom-stage';
import { ReleaseError } from './errors';
import type { ReleaseArtifact, StageRecord } from './manifest';
import { CUSTOM_STAGE_ENV } from './stage';

const ARTIFACT: ReleaseArtifact = { path: 'helix-studio-1.4.0-linux-x86_64.zip', kind: 'installer', sha256: 'a'.repeat(64), size: 42, sbom: true, name: 'helix-studio', version: '1.4.0', platform: 'linux-x86_64' };
const RECORD: StageRecord = { schema: 'helix-release/stage-record/v1', stage: 'package', project: 'helix-studio', artifacts: [ARTIFACT] };

let dir = '';
let inputsFile = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helix-custom-stage-'));
  inputsFile = join(dir, 'inputs.json');
  await writeFile(inputsFile, JSON.stringify({ artifacts: [ARTIFACT], records: [RECORD] }));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The environment `nx run release:<stage>` gives, with `over` applied (undefined deletes). */
function env(over: Partial<Record<keyof typeof CUSTOM_STAGE_ENV, string | undefined>> = {}): NodeJS.ProcessEnv {
  const base: Record<keyof typeof CUSTOM_STAGE_ENV, string | undefined> = { releaseDir: join(dir, 'release'), inputs: inputsFile, stage: 'license-report', sourceDateEpoch: '1700000000', ...over };
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base) as [keyof typeof CUSTOM_STAGE_ENV, string | undefined][]) if (value !== undefined) out[CUSTOM_STAGE_ENV[key]] = value;
  return out;
}

describe('readCustomStageInputs', () => {
  it.each<[what: string, environment: NodeJS.ProcessEnv]>([
    ['run directly: none of the variables', {}],
    ['no HELIX_RELEASE_DIR', env({ releaseDir: undefined })],
    ['an empty HELIX_RELEASE_DIR', env({ releaseDir: '' })],
    ['no HELIX_RELEASE_INPUTS', env({ inputs: undefined })],
    ['no HELIX_RELEASE_STAGE', env({ stage: undefined })],
    ['an empty HELIX_RELEASE_STAGE', env({ stage: '' })],
  ])('%s → CUSTOM_STAGE_CONTEXT', async (_what, environment) => {
    const err = await readCustomStageInputs(environment).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseError);
    const e = err as ReleaseError;
    expect(e.code).toBe('CUSTOM_STAGE_CONTEXT');
    // It concerns the process environment, not a file.
    expect(e.file).toBeUndefined();
    expect(e.message).toContain('run custom stages through release.config.ts (npx nx run release:<stage>), not directly');
    // It names exactly the variables that are missing.
    const names = [CUSTOM_STAGE_ENV.releaseDir, CUSTOM_STAGE_ENV.inputs, CUSTOM_STAGE_ENV.stage];
    for (const name of names) expect(e.message.split(' not set')[0]!.includes(name), name).toBe(!environment[name]);
  });

  it('names the inputs file when it cannot be read', async () => {
    const missing = join(dir, 'no-such-file.json');
    await expect(readCustomStageInputs(env({ inputs: missing }))).rejects.toMatchObject({ code: 'CUSTOM_STAGE_CONTEXT', file: missing, message: expect.stringContaining('HELIX_RELEASE_INPUTS') });
  });

  it('reads the inputs when run by the release (the control)', async () => {
    const inputs = await readCustomStageInputs(env());
    expect(inputs).toEqual({ stage: 'license-report', releaseDir: join(dir, 'release'), sourceDateEpoch: 1_700_000_000, artifacts: [ARTIFACT], records: [RECORD] });
  });

  it('does not read the inputs file before the context is complete', async () => {
    // A missing inputs file would fail with ENOENT; the missing variable is reported first.
    const err = await readCustomStageInputs(env({ inputs: join(dir, 'no-such-file.json'), stage: undefined })).catch((e: unknown) => e);
    expect((err as ReleaseError).code).toBe('CUSTOM_STAGE_CONTEXT');
  });
});
