/**
 * The example custom stage on installer zips built here: a bundled
 * distribution whose METADATA declares no license fails the stage with
 * LICENSE_UNKNOWN, naming the installer (unless failOnUnknown is false); a
 * declared one is reported with its license files.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseError, sha256Hex, writeReproducibleZip, type CustomStageInputs, type ReleaseArtifact } from '@helix-release/core';
import { licenseOf, writeLicenseReport } from './license-report';

const INSTALLER = 'helix-studio-1.4.0-linux-x86_64.zip';
const SDE = 1_700_000_000;

/** METADATA of a distribution: the headers given, then a body. */
const metadata = (headers: string[]) => `Metadata-Version: 2.1\n${headers.join('\n')}\n\nLong description. License: MIT (in the body, which does not count)\n`;
const MIT = metadata(['Name: certifi', 'Version: 2024.8.30', 'License-Expression: MPL-2.0']);
const LONG_LICENSE = `License: ${'Permission is hereby granted, free of charge, to any person obtaining a copy '.repeat(2)}`;

interface Case {
  name: string;
  /** Entries of the installer zip besides the known-good certifi. */
  entries: Record<string, string>;
  failOnUnknown?: boolean;
  expect: 'PASS' | 'LICENSE_UNKNOWN';
  /** Substrings of the error message, or of the report for a PASS. */
  says: string[];
}

const cases: Case[] = [
  {
    name: 'every distribution declares a license (the control)',
    entries: { 'helix-studio/_internal/idna-3.7.dist-info/METADATA': metadata(['Name: idna', 'Version: 3.7', 'Classifier: License :: OSI Approved :: BSD License']) },
    expect: 'PASS',
    says: ['idna 3.7\n  License: BSD License', 'certifi 2024.8.30\n  License: MPL-2.0', '  --- LICENSE\n  certifi license text'],
  },
  {
    name: 'a METADATA with no license field',
    entries: { 'helix-studio/_internal/mystery-0.1.dist-info/METADATA': metadata(['Name: mystery', 'Version: 0.1']) },
    expect: 'LICENSE_UNKNOWN',
    says: ['mystery 0.1 declares no license', 'set failOnUnknown: false'],
  },
  {
    name: 'a License field too long to be a license name (the full text pasted in)',
    entries: { 'helix-studio/_internal/pasted-2.0.dist-info/METADATA': metadata(['Name: pasted', 'Version: 2.0', LONG_LICENSE]) },
    expect: 'LICENSE_UNKNOWN',
    says: ['pasted 2.0 declares no license'],
  },
  {
    name: 'a METADATA with only non-license classifiers and no name',
    entries: { 'helix-studio/_internal/anon.dist-info/METADATA': 'Metadata-Version: 2.1\nClassifier: Programming Language :: Python :: 3\n\n' },
    expect: 'LICENSE_UNKNOWN',
    says: ['unknown unknown declares no license'],
  },
  {
    name: 'no license, but failOnUnknown: false reports it as UNKNOWN',
    entries: { 'helix-studio/_internal/mystery-0.1.dist-info/METADATA': metadata(['Name: mystery', 'Version: 0.1']) },
    failOnUnknown: false,
    expect: 'PASS',
    says: ['mystery 0.1\n  License: UNKNOWN'],
  },
];

let dir = '';
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helix-license-report-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('writeLicenseReport', () => {
  it.each(cases)('$name → $expect', async (c) => {
    const releaseDir = join(dir, `case-${++counter}`);
    const entries = {
      'helix-studio/helix-studio': '#!/bin/sh\n',
      'helix-studio/_internal/certifi-2024.8.30.dist-info/METADATA': MIT,
      'helix-studio/_internal/certifi-2024.8.30.dist-info/LICENSE': 'certifi license text\n',
      ...c.entries,
    };
    await writeReproducibleZip(join(releaseDir, INSTALLER), Object.entries(entries).map(([name, text]) => ({ name, kind: 'buffer' as const, data: Buffer.from(text) })), SDE);
    const zip = await readFile(join(releaseDir, INSTALLER));
    const artifact: ReleaseArtifact = { path: INSTALLER, kind: 'installer', sha256: sha256Hex(zip), size: zip.length, sbom: true };
    const inputs: CustomStageInputs = { stage: 'license-report', releaseDir, sourceDateEpoch: SDE, artifacts: [artifact], records: [] };
    const outcome = await writeLicenseReport(inputs, { failOnUnknown: c.failOnUnknown }).catch((err: unknown) => err);
    if (c.expect === 'PASS') {
      expect(outcome, outcome instanceof Error ? outcome.message : '').toEqual({ installers: 1, distributions: Object.keys(entries).filter((n) => n.endsWith('/METADATA')).length });
      const report = await readFile(join(releaseDir, 'THIRD_PARTY_LICENSES.txt'), 'utf8');
      expect(report).toContain(`${INSTALLER} (sha256 ${artifact.sha256})`);
      for (const part of c.says) expect(report).toContain(part);
      return;
    }
    expect(outcome).toBeInstanceOf(ReleaseError);
    const err = outcome as ReleaseError;
    expect(err.code, err.message).toBe('LICENSE_UNKNOWN');
    expect(err.file).toBe(INSTALLER);
    for (const part of c.says) expect(err.message).toContain(part);
    // No report is written for a release with an unknown license.
    expect(await readdir(releaseDir)).toEqual([INSTALLER]);
  });
});

describe('licenseOf', () => {
  it.each<[what: string, headers: string[], license: string]>([
    ['License-Expression wins', ['License-Expression: Apache-2.0', 'License: MIT', 'Classifier: License :: OSI Approved :: BSD License'], 'Apache-2.0'],
    ['classifiers before a plain License', ['License: Some text', 'Classifier: License :: OSI Approved :: MIT License', 'Classifier: License :: OSI Approved :: Apache Software License'], 'MIT License OR Apache Software License'],
    ['a short plain License', ['License: BSD-3-Clause'], 'BSD-3-Clause'],
    ['a long plain License is UNKNOWN', [LONG_LICENSE], 'UNKNOWN'],
    ['nothing is UNKNOWN', [], 'UNKNOWN'],
  ])('%s', (_what, headers, license) => {
    expect(licenseOf(metadata(['Name: x', 'Version: 1', ...headers])).license).toBe(license);
  });
});
