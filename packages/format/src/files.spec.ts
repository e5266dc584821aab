import { describe, expect, it } from 'vitest';
import { CYCLONEDX_BOM, SPDX_DOCUMENT_V23, dsseRequiredFiles, dsseTargetKind, sbomStatement } from './dsse';
import { SBOM_ANNOTATIONS, isSbomFile, sbomFormatOf, sbomName, sbomNames } from './files';

describe('SBOM file names', () => {
  it.each([
    ['helix-studio-1.4.0-linux-x86_64.zip', 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json', 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.cdx.json'],
    ['plugins/hello-1.0.0.zip', 'SBOM-hello-1.0.0.zip.spdx.json', 'SBOM-hello-1.0.0.zip.cdx.json'],
  ])('names the SBOMs of %s by its file name, SPDX first', (artifact, spdx, cdx) => {
    expect(sbomName(artifact)).toBe(spdx);
    expect(sbomName(artifact, 'cyclonedx')).toBe(cdx);
    expect(sbomNames(artifact)).toEqual([spdx, cdx]);
    expect([sbomFormatOf(spdx), sbomFormatOf(cdx)]).toEqual(['spdx', 'cyclonedx']);
  });

  it.each<[string, ReturnType<typeof sbomFormatOf>]>([
    ['SBOM-a.zip.spdx.json', 'spdx'],
    ['SBOM-a.zip.cdx.json', 'cyclonedx'],
    ['SBOM-a.zip.cdx.json.asc', undefined],
    ['SBOM-a.zip.spdx.json.dsse.json', undefined],
    ['SBOM-a.zip.cyclonedx.json', undefined],
    ['a.zip.cdx.json', undefined],
  ])('%s is %s', (name, format) => {
    expect(sbomFormatOf(name)).toBe(format);
    expect(isSbomFile(name)).toBe(format !== undefined);
  });

  it('names each format in its own provenance annotation', () => {
    expect(SBOM_ANNOTATIONS).toEqual({ spdx: 'helix.sbom', cyclonedx: 'helix.cyclonedx' });
  });
});

describe('SBOM envelopes', () => {
  it('are required of every top-level SBOM of either format, and attest an SBOM', () => {
    const present = ['SBOM-a.zip.cdx.json', 'SBOM-a.zip.spdx.json', 'sub/SBOM-b.zip.cdx.json', 'a.zip'];
    expect(dsseRequiredFiles(present)).toEqual(['SBOM-a.zip.cdx.json', 'SBOM-a.zip.spdx.json', 'release-provenance.intoto.json']);
    expect(['SBOM-a.zip.cdx.json', 'SBOM-a.zip.spdx.json', 'a.zip'].map(dsseTargetKind)).toEqual(['sbom', 'sbom', undefined]);
  });

  it('carry a Statement whose predicateType is that of the SBOM format', () => {
    const artifact = { path: 'a.zip', sha256: 'ab'.repeat(32) };
    expect(sbomStatement(artifact, { x: 1 })).toMatchObject({ predicateType: SPDX_DOCUMENT_V23, predicate: { x: 1 }, subject: [{ name: 'a.zip', digest: { sha256: 'ab'.repeat(32) } }] });
    expect(sbomStatement(artifact, { x: 1 }, 'cyclonedx')).toMatchObject({ predicateType: CYCLONEDX_BOM });
    expect(CYCLONEDX_BOM).toBe('https://cyclonedx.org/bom');
  });
});
