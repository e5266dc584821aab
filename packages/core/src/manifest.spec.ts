import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isEvidenceFile, type EvidenceLevel } from '@helix-release/format';
import { invalidateEvidence } from './manifest';

const RELEASE = [
  'app.zip',
  'SBOM-app.zip.spdx.json',
  'SBOM-app.zip.spdx.json.asc',
  'SHA256SUMS.txt',
  'SHA256SUMS.txt.asc',
  'BUILD_META.txt',
  'BUILD_META.txt.asc',
  'release-provenance.intoto.json',
  'release-provenance.intoto.json.asc',
  'release-provenance.intoto.json.dsse.json',
  'SBOM-app.zip.spdx.json.dsse.json',
  'release-signing-public-key.asc',
  'release-signing-public-key.pem',
  'release-signing-key-fingerprint.txt',
];

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('invalidateEvidence', () => {
  const table: [EvidenceLevel, string[]][] = [
    ['artifacts', ['SBOM-app.zip.spdx.json', 'app.zip']],
    ['checksums', ['BUILD_META.txt', 'SBOM-app.zip.spdx.json', 'SHA256SUMS.txt', 'app.zip']],
    ['build-meta', ['BUILD_META.txt', 'SBOM-app.zip.spdx.json', 'SHA256SUMS.txt', 'app.zip']],
    ['provenance', ['BUILD_META.txt', 'SBOM-app.zip.spdx.json', 'SHA256SUMS.txt', 'app.zip', 'release-provenance.intoto.json']],
  ];
  it.each(table)('a %s change leaves only what still describes the release', async (level, kept) => {
    dir = await mkdtemp(join(tmpdir(), 'invalidate-'));
    for (const f of RELEASE) await writeFile(join(dir, f), f);
    await invalidateEvidence(dir, level);
    expect((await readdir(dir)).sort()).toEqual([...kept].sort());
  });

  it('is a no-op on a release folder that does not exist yet', async () => {
    await expect(invalidateEvidence(join(tmpdir(), 'no-such-release-folder-here'), 'artifacts')).resolves.toBeUndefined();
  });
});

describe('isEvidenceFile', () => {
  it.each([
    ['SHA256SUMS.txt', true],
    ['BUILD_META.txt', true],
    ['release-provenance.intoto.json', true],
    ['release-signing-public-key.asc', true],
    ['release-signing-key-fingerprint.txt', true],
    ['SBOM-app.zip.spdx.json.asc', true],
    ['SBOM-app.zip.spdx.json.dsse.json', true],
    ['release-provenance.intoto.json.dsse.json', true],
    ['release-signing-public-key.pem', true],
    ['SBOM-app.zip.spdx.json', false],
    ['conformance-results.json', false],
    ['plugins/hello-1.0.0.zip', false],
  ])('%s → %s', (path, expected) => {
    expect(isEvidenceFile(path)).toBe(expected);
  });
});
