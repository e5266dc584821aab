import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stableJson, toolchainPaths } from '@helix-release/core';
import { FILES, TOP, enriched } from '../../testdata/fake-bundle';
import { cdxSupplier, cyclonedxFromSpdx, type CdxComponentOut } from './cyclonedx';
import { HELIX_VERSION, type SpdxDocument } from './normalise';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const FILE = '/rel/SBOM-app-1.0.0-linux-x86_64.zip.cdx.json';
const work = mkdtempSync(join(tmpdir(), 'helix-cdx-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const purlOf = (p: { externalRefs?: { referenceType: string; referenceLocator: string }[] }) => p.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
const CDX_ALG: Record<string, string> = { SHA1: 'SHA-1', SHA256: 'SHA-256' };

/**
 * Runs the independent validator (cyclonedx-python-lib's JsonStrictValidator
 * for 1.6, from the dev toolchain) on BOM texts; its exit status and lines.
 */
function validate(texts: Record<string, string>): { status: number | null; lines: string[] } {
  const paths = Object.entries(texts).map(([name, text]) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  });
  const python = join(toolchainPaths(REPO_ROOT).venv, 'bin', 'python');
  const r = spawnSync(python, [join(REPO_ROOT, 'tools', 'tests', 'validate_cyclonedx.py'), ...paths], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.trim().split('\n').map((l) => l.replace(`${work}/`, '')) };
}

describe('cyclonedxFromSpdx', () => {
  const doc = enriched();
  const bom = cyclonedxFromSpdx(doc, FILE);
  const rootId = doc.relationships!.find((r) => r.relationshipType === 'DESCRIBES')!.relatedSpdxElement;
  const byRef = new Map(bom.components.map((c) => [c['bom-ref'], c]));

  it('is a CycloneDX 1.6 BOM that cyclonedx-python-lib validates, and the validator rejects broken ones', () => {
    const broken = (edit: (b: Record<string, any>) => void) => {
      const copy: Record<string, any> = JSON.parse(stableJson(bom));
      edit(copy);
      return stableJson(copy);
    };
    const r = validate({
      'good.cdx.json': stableJson(bom),
      'no-type.cdx.json': broken((b) => delete b['components'][0].type),
      'spdx-alg.cdx.json': broken((b) => (b['metadata'].component.hashes[0].alg = 'SHA256')),
      'random-serial.cdx.json': broken((b) => (b['serialNumber'] = 'not-a-urn')),
    });
    expect(r.status, r.lines.join('\n')).toBe(1);
    expect(r.lines).toEqual([
      'VALID good.cdx.json',
      expect.stringMatching(/^INVALID no-type\.cdx\.json: \$\.components\[0\]: 'type' is a required property$/),
      expect.stringMatching(/^INVALID spdx-alg\.cdx\.json: \$\.metadata\.component\.hashes\[0\]\.alg: 'SHA256' is not one of /),
      expect.stringMatching(/^INVALID random-serial\.cdx\.json: \$\.serialNumber: /),
    ]);
    expect(validate({ 'only-good.cdx.json': stableJson(bom) })).toEqual({ status: 0, lines: ['VALID only-good.cdx.json'] });
  });

  it('describes the product as metadata.component, made by helix-release for the organisation, dated as the SPDX document', () => {
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json' });
    expect(bom.metadata.timestamp).toBe(doc.creationInfo.created);
    expect(bom.metadata.tools.components).toEqual([
      { type: 'application', name: 'helix-release', version: HELIX_VERSION },
      { type: 'application', name: 'syft', version: '1.57.1' },
    ]);
    expect(bom.metadata.manufacturer).toEqual({ name: 'Example Org' });
    expect(bom.metadata.supplier).toEqual({ name: 'Example Org' });
    expect(bom.metadata.component).toEqual({
      'bom-ref': rootId,
      type: 'application',
      name: 'app',
      version: '1.0.0',
      supplier: { name: 'Example Org' },
      purl: 'pkg:generic/app@1.0.0',
      hashes: [{ alg: 'SHA-256', content: 'cd'.repeat(32) }],
    });
  });

  it('has every other SPDX package as a component with the same name, version, supplier, purl and hashes', () => {
    const others = doc.packages!.filter((p) => p.SPDXID !== rootId);
    expect(others.length).toBeGreaterThanOrEqual(7);
    for (const p of others) {
      const c = byRef.get(p.SPDXID);
      expect(c, p.name).toBeDefined();
      expect(c!.name).toBe(p.name);
      expect(c!.version).toBe(p.versionInfo === 'NOASSERTION' ? undefined : p.versionInfo);
      expect(c!.purl).toBe(purlOf(p));
      expect(c!.supplier?.name, p.name).toBe(cdxSupplier(p['supplier'])!.name);
      expect(c!.hashes ?? []).toEqual((p.checksums ?? []).map((h) => ({ alg: CDX_ALG[h.algorithm] ?? h.algorithm, content: h.checksumValue })));
    }
    const named = (name: string) => bom.components.find((c) => c.name === name)!;
    expect(named('python')).toMatchObject({ type: 'library', version: '3.11.2', licenses: [{ expression: 'PSF-2.0' }] });
    expect(named('pyinstaller-bootloader')).toMatchObject({ type: 'application', purl: 'pkg:pypi/pyinstaller@6.22.3' });
    expect(named('libssl3')).toMatchObject({ purl: 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64', supplier: { name: 'Debian OpenSSL Team', contact: [{ email: 'ssl@example.invalid' }] } });
    expect(named('openssl')).toMatchObject({ purl: 'pkg:generic/openssl@4.0.3', hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }] });
  });

  it('accounts for every file of the zip: in a package as an occurrence, else as a file component with its hashes', () => {
    const occurrences = new Map<string, string>();
    for (const c of bom.components) for (const o of c.evidence?.occurrences ?? []) occurrences.set(o.location, c.name);
    const fileComponents = new Map(bom.components.filter((c) => c.type === 'file').map((c) => [c.name, c]));
    for (const f of FILES) {
      const owner = occurrences.get(f.name);
      const asFile = fileComponents.get(f.name);
      expect(Number(owner !== undefined) + Number(asFile !== undefined), f.name).toBe(1);
      if (asFile) expect(asFile.hashes).toEqual([{ alg: 'SHA-1', content: f.sha1 }, { alg: 'SHA-256', content: f.sha256 }]);
    }
    expect(occurrences.get(`${TOP}/_internal/libcrypto.so.3`)).toBe('libssl3');
    expect(occurrences.get(`${TOP}/_internal/libpython3.11.so.1.0`)).toBe('python');
    expect(occurrences.get(`${TOP}/app`)).toBe('pyinstaller-bootloader');
    expect(fileComponents.get(`${TOP}/_internal/libmystery.so.2`)?.description).toMatch(/origin: NOASSERTION/);
  });

  it('has one dependencies entry per component: what the SPDX document says each CONTAINS or DEPENDS_ON', () => {
    const refs = [bom.metadata.component, ...bom.components.filter((c) => c.type !== 'file')].map((c) => c['bom-ref']).sort();
    expect(bom.dependencies.map((d) => d.ref)).toEqual(refs);
    const deps = new Map(bom.dependencies.map((d) => [d.ref, d.dependsOn]));
    const ref = (name: string) => bom.components.find((c) => c.name === name)!['bom-ref'];
    expect(deps.get(rootId)).toEqual(expect.arrayContaining([ref('python'), ref('pyinstaller-bootloader'), ref('libssl3'), ref('cryptography')]));
    expect(deps.get(ref('cryptography'))).toEqual(expect.arrayContaining([ref('openssl'), ref('pem'), ref('cryptography-rust')]));
    expect(deps.get(ref('libssl3'))).toEqual([]);
    const withDependency: SpdxDocument = { ...doc, relationships: [...doc.relationships!, { spdxElementId: ref('six'), relationshipType: 'DEPENDENCY_OF', relatedSpdxElement: ref('cryptography') }] };
    expect(new Map(cyclonedxFromSpdx(withDependency, FILE).dependencies.map((d) => [d.ref, d.dependsOn])).get(ref('cryptography'))).toContain(ref('six'));
  });

  it('is deterministic: the same document gives the same bytes; other content another serialNumber, derived, not random', () => {
    expect(stableJson(cyclonedxFromSpdx(enriched(), FILE))).toBe(stableJson(bom));
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const other = enriched();
    other.packages!.find((p) => p.name === 'six')!.versionInfo = '1.1';
    expect(cyclonedxFromSpdx(other, FILE).serialNumber).not.toBe(bom.serialNumber);
    const sorted = (cs: CdxComponentOut[]) => cs.map((c) => c['bom-ref']);
    expect(sorted(bom.components)).toEqual([...sorted(bom.components)].sort());
  });

  it('refuses a document that describes no package, naming the file', () => {
    const none: SpdxDocument = { ...doc, relationships: doc.relationships!.filter((r) => r.relationshipType !== 'DESCRIBES') };
    expect(() => cyclonedxFromSpdx(none, FILE)).toThrow(expect.objectContaining({ code: 'SBOM_SYFT_OUTPUT', file: FILE }));
  });

  it('reads SPDX suppliers into CycloneDX organisations', () => {
    expect(cdxSupplier('Organization: Debian OpenSSL Team (ssl@example.invalid)')).toEqual({ name: 'Debian OpenSSL Team', contact: [{ email: 'ssl@example.invalid' }] });
    expect(cdxSupplier('Person: PyO3 Project and Contributors (https://github.com/PyO3)')).toEqual({ name: 'PyO3 Project and Contributors (https://github.com/PyO3)' });
    expect(cdxSupplier('NOASSERTION')).toBeUndefined();
    expect(cdxSupplier(undefined)).toBeUndefined();
  });
});

