/**
 * The third-party license report: for every installer of the release, every
 * Python distribution bundled in it (found by its `*.dist-info/METADATA`),
 * with its declared license and the full text of the license files it ships.
 * Read straight from the installer zip, so it reports what was shipped, not
 * what was meant to be.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ReleaseError,
  compareBytes,
  readZipDirectory,
  readZipEntry,
  writeFileAtomic,
  type CustomStageInputs,
} from '@helix-release/core';

/** One bundled distribution. */
export interface Distribution {
  name: string;
  version: string;
  license: string;
  licenseFiles: { name: string; text: string }[];
}

/** Reads the license fields of a METADATA file (RFC 822 style headers). */
export function licenseOf(metadata: string): { name: string; version: string; license: string } {
  const headers = metadata.split(/\r?\n\r?\n/, 1)[0]!;
  const get = (key: string) => [...headers.matchAll(new RegExp(`^${key}: (.*)$`, 'gmi'))].map((m) => m[1]!.trim());
  const expression = get('License-Expression')[0];
  const classifiers = get('Classifier').filter((c) => c.startsWith('License ::')).map((c) => c.split(' :: ').pop()!);
  const plain = get('License')[0];
  const license = expression ?? (classifiers.length ? classifiers.join(' OR ') : plain && plain.length < 80 ? plain : undefined) ?? 'UNKNOWN';
  return { name: get('Name')[0] ?? 'unknown', version: get('Version')[0] ?? 'unknown', license };
}

/** The distributions bundled in one zip. */
export function bundledDistributions(zip: Buffer, what: string): Distribution[] {
  const entries = readZipDirectory(zip, what);
  const out: Distribution[] = [];
  for (const entry of entries) {
    const m = /^(.*\/)?([^/]+\.dist-info)\/METADATA$/.exec(entry.name);
    if (!m) continue;
    const prefix = `${m[1] ?? ''}${m[2]}/`;
    const meta = licenseOf(readZipEntry(zip, entry, what).toString('utf8'));
    const licenseFiles = entries
      .filter((e) => e.name.startsWith(prefix) && /^(licenses\/.+|LICEN[CS]E.*|COPYING.*|NOTICE.*)$/i.test(e.name.slice(prefix.length)) && !e.isDirectory)
      .sort((a, b) => compareBytes(a.name, b.name))
      .map((e) => ({ name: e.name.slice(prefix.length), text: readZipEntry(zip, e, what).toString('utf8') }));
    out.push({ ...meta, licenseFiles });
  }
  return out.sort((a, b) => compareBytes(a.name.toLowerCase(), b.name.toLowerCase()));
}

/** Writes the report into the release folder; returns counts. */
export async function writeLicenseReport(
  inputs: CustomStageInputs,
  options: { output?: string; failOnUnknown?: boolean },
): Promise<{ installers: number; distributions: number }> {
  const installers = inputs.artifacts.filter((a) => a.kind === 'installer').sort((a, b) => compareBytes(a.path, b.path));
  const lines = ['THIRD-PARTY LICENSES', '', `Release files described: ${installers.map((a) => a.path).join(', ') || '(no installers)'}`, ''];
  let count = 0;
  for (const installer of installers) {
    const zip = await readFile(join(inputs.releaseDir, installer.path));
    const dists = bundledDistributions(zip, installer.path);
    lines.push('='.repeat(78), `${installer.path} (sha256 ${installer.sha256})`, '='.repeat(78), '');
    for (const d of dists) {
      if (d.license === 'UNKNOWN' && options.failOnUnknown !== false) {
        throw new ReleaseError('LICENSE_UNKNOWN', `${d.name} ${d.version} declares no license; fix its metadata or set failOnUnknown: false`, { file: installer.path });
      }
      lines.push(`${d.name} ${d.version}`, `  License: ${d.license}`);
      for (const f of d.licenseFiles) lines.push('', `  --- ${f.name}`, ...f.text.replace(/\r\n/g, '\n').trimEnd().split('\n').map((l) => (l ? `  ${l}` : '')));
      lines.push('');
      count++;
    }
  }
  await writeFileAtomic(join(inputs.releaseDir, options.output ?? 'THIRD_PARTY_LICENSES.txt'), `${lines.join('\n')}\n`);
  return { installers: installers.length, distributions: count };
}
