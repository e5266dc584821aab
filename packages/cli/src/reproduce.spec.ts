import { createHash, createPrivateKey } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvenanceStatement } from '@helix-release/format';
import { detachedSignature, loadSigningKey, publicKeyArmor } from '@helix-release/sign';
import { writeReproducibleZip } from '@helix-release/core';
import { compareRebuild, driftTable, importedSet, osPackageOf, recordedToolchain, repeatableCommit, sameZipBut, throwawayPluginKey, toolchainDrift, verdictLines } from './reproduce';

const KEYS = resolve(__dirname, '../../../workspace-fixtures/keys');

const statement: ProvenanceStatement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: {
      buildType: 'https://helix-release.invalid/build/v1',
      externalParameters: { version: '1', targets: [], releaseConfig: { name: 'release.config.ts' }, source: { name: 'source' } },
      internalParameters: { sourceDateEpoch: 1, platform: 'linux-x86_64', imported: false, dirty: false },
      resolvedDependencies: [
        { uri: 'git+https://example.invalid/x@refs/tags/v1', digest: { gitCommit: 'a'.repeat(40) } },
        { uri: 'pkg:pypi/cffi@2.1.1', digest: { sha256: 'c'.repeat(64) }, annotations: { kind: 'locked-package' } },
        { uri: 'pkg:generic/python@3.11.7', digest: { sha256: '1'.repeat(64) }, annotations: { kind: 'toolchain', libpython: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}` } },
        { uri: 'pkg:pypi/pyinstaller@6.22.3', annotations: { kind: 'toolchain', bootloader: `Linux-64bit-intel sha256:${'3'.repeat(64)}` } },
        { uri: 'pkg:generic/debian@12', annotations: { kind: 'build-host-os' } },
        { uri: 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12', annotations: { kind: 'bundled-os-package', bundledBy: 'helix-studio-1.4.0-linux-x86_64.zip' } },
        { uri: 'pkg:pypi/uv@0.13.9', annotations: { kind: 'toolchain' } },
        { uri: 'pkg:golang/github.com/anchore/syft@v1.57.1', digest: { sha256: '4'.repeat(64) }, annotations: { kind: 'toolchain', tool: 'syft' } },
        { uri: 'pkg:generic/node@20.20.2', annotations: { kind: 'toolchain', zlib: '1.3.1' } },
        { uri: 'file:tools/toolchain/pins.json', digest: { sha256: '5'.repeat(64) }, annotations: { kind: 'toolchain-pins' } },
      ],
    },
    runDetails: { builder: { id: 'https://helix-release.invalid/builders/local/v1' }, metadata: {}, byproducts: [] },
  },
};

describe('the toolchain a reproduction must match', () => {
  it('reads every component the provenance records, and nothing of the locked packages', () => {
    expect(Object.fromEntries(recordedToolchain(statement))).toEqual({
      python: '3.11.7',
      'python interpreter sha256': '1'.repeat(64),
      libpython: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}`,
      os: 'debian@12',
      'os package deb libssl3:amd64': '3.0.19-1~deb12u2',
      syft: '1.57.1',
      'syft sha256': '4'.repeat(64),
      node: '20.20.2',
      zlib: '1.3.1',
      'toolchain pins (PyInstaller, its bootloader, uv) sha256': '5'.repeat(64),
      platform: 'linux-x86_64',
    });
  });

  it('reports each differing or missing component, and the table aligns them', () => {
    const recorded = recordedToolchain(statement);
    const here = new Map(recorded);
    expect(toolchainDrift(recorded, here)).toEqual([]);
    here.set('python', '3.12.1');
    here.delete('libpython');
    here.set('extra here', 'ignored');
    const rows = toolchainDrift(recorded, here);
    expect(rows).toEqual([
      { component: 'python', recorded: '3.11.7', here: '3.12.1' },
      { component: 'libpython', recorded: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}`, here: '(not found)' },
    ]);
    const lines = driftTable(rows).split('\n');
    expect(lines[0]).toMatch(/^ {2}component {2}recorded in the release +this machine$/);
    expect(lines[1]).toMatch(/^ {2}python {5}3\.11\.7 +3\.12\.1$/);
    // The third column starts at one place in every line.
    const at = lines[0]!.indexOf('this machine');
    expect(lines.slice(1).map((l) => l.slice(at))).toEqual(rows.map((r) => r.here));
  });
});

describe('comparing a rebuild with the release', () => {
  let dir: string;
  let release: string;
  let rebuilt: string;
  const files: Record<string, string> = { 'app.zip': 'installer bytes', 'SBOM-app.zip.spdx.json': '{"spdxVersion":"SPDX-2.3"}\n', 'plugins/p-1.0.0.zip': 'plugin bytes' };
  const subjects = Object.entries(files).map(([name, text]) => ({ name, sha256: createHash('sha256').update(text).digest('hex') }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helix-reproduce-compare-'));
    release = join(dir, 'release');
    rebuilt = join(dir, 'rebuilt');
    const key = await loadSigningKey(
      {
        armoredKey: await readFile(join(KEYS, 'DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8'),
        passphrase: (await readFile(join(KEYS, 'DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8')).trim(),
        expectedFingerprint: '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4',
        origin: 'development-key',
        where: 'test',
      },
      1_700_000_000,
    );
    await mkdir(join(release, 'plugins'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(release, name), text);
    // The SBOM is a signed kind; the zips are not (the sums vouch for them).
    await writeFile(join(release, 'SBOM-app.zip.spdx.json.asc'), await detachedSignature(key, Buffer.from(files['SBOM-app.zip.spdx.json']!), 1_700_000_000));
    await writeFile(join(release, 'release-signing-public-key.asc'), publicKeyArmor(key));
    await cp(release, rebuilt, { recursive: true });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('matches an identical rebuild, and verifies each signature against the rebuilt bytes', async () => {
    const verdicts = await compareRebuild(release, rebuilt, subjects, { env: {} });
    expect(verdicts.map((v) => [v.name, v.verdict, v.signature ?? '-'])).toEqual([
      ['app.zip', 'MATCH', '-'],
      ['SBOM-app.zip.spdx.json', 'MATCH', 'VERIFIES'],
      ['plugins/p-1.0.0.zip', 'MATCH', '-'],
    ]);
    expect(verdictLines(verdicts)).toEqual(['MATCH app.zip', 'MATCH SBOM-app.zip.spdx.json (its signature verifies against the rebuilt file)', 'MATCH plugins/p-1.0.0.zip']);
  });

  it('names a file that differs (and whose signature then fails) and one the rebuild did not make', async () => {
    await writeFile(join(rebuilt, 'SBOM-app.zip.spdx.json'), '{"spdxVersion":"SPDX-2.2"}\n');
    await rm(join(rebuilt, 'plugins/p-1.0.0.zip'));
    const verdicts = await compareRebuild(release, rebuilt, subjects, { env: {} });
    expect(verdicts.map((v) => [v.name, v.verdict, v.signature ?? '-'])).toEqual([
      ['app.zip', 'MATCH', '-'],
      ['SBOM-app.zip.spdx.json', 'MISMATCH', 'FAILS'],
      ['plugins/p-1.0.0.zip', 'MISSING', '-'],
    ]);
    const rebuiltSbom = createHash('sha256').update('{"spdxVersion":"SPDX-2.2"}\n').digest('hex');
    expect(verdictLines(verdicts).slice(1)).toEqual([
      `FAILED REPRODUCE_MISMATCH: SBOM-app.zip.spdx.json: sha256 ${subjects[1]!.sha256} in the release, ${rebuiltSbom} rebuilt; its signature does not verify against the rebuilt file`,
      'FAILED REPRODUCE_MISMATCH: plugins/p-1.0.0.zip: the rebuild did not produce it',
    ]);
  });
});

describe('the builds reproduce can repeat', () => {
  const params = statement.predicate.buildDefinition;
  const withParams = (internal: Partial<typeof params.internalParameters>, commit: string | null = 'a'.repeat(40)): ProvenanceStatement => ({
    ...statement,
    predicate: {
      ...statement.predicate,
      buildDefinition: { ...params, internalParameters: { ...params.internalParameters, ...internal }, externalParameters: { ...params.externalParameters, source: commit ? { name: 'source', digest: { gitCommit: commit } } : { name: 'source' } } },
    },
  });
  const problem = (s: ProvenanceStatement) => {
    try {
      repeatableCommit(s, 'release-provenance.intoto.json');
      return undefined;
    } catch (err) {
      return `${(err as { code?: string }).code}: ${(err as Error).message}`;
    }
  };

  it('takes a clean build, made here or imported, and refuses a dirty one and one without a commit (REPRODUCE_UNSUPPORTED)', () => {
    expect(repeatableCommit(withParams({}), 'f')).toBe('a'.repeat(40));
    expect(repeatableCommit(withParams({ imported: true }), 'f')).toBe('a'.repeat(40));
    expect(problem(withParams({ dirty: true }))).toMatch(/^REPRODUCE_UNSUPPORTED: it was built from a working tree with uncommitted changes/);
    expect(problem(withParams({}, null))).toBe('REPRODUCE_UNSUPPORTED: its provenance names no source commit (null)');
    expect(problem(withParams({}, 'unknown'))).toBe('REPRODUCE_UNSUPPORTED: its provenance names no source commit ("unknown")');
  });
});

describe('what a reproduction of an imported release rebuilds', () => {
  const subject = (name: string, kind: string) => ({ name, digest: { sha256: '0'.repeat(64) }, annotations: { 'helix.kind': kind } });
  const imported: ProvenanceStatement = {
    ...statement,
    subject: [
      subject('BUILD_META.txt', 'build-meta'),
      subject('SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json', 'sbom'),
      subject('THIRD_PARTY_LICENSES.txt', 'custom'),
      subject('conformance-results.json', 'conformance'),
      subject('helix-studio-1.4.0-linux-x86_64.zip', 'installer'),
      subject('helix-studio-1.4.0-macos-arm64.zip', 'installer'),
      subject('helix-studio-1.4.0-windows-x86_64.zip', 'installer'),
      subject('notes.tar.gz', 'custom'),
      subject('plugins/hello-1.0.0.zip', 'plugin'),
    ],
  };

  it('rebuilds the installers of this platform and the plugins, and takes the rest of what was imported from the release', () => {
    expect(importedSet(imported, new Set(['THIRD_PARTY_LICENSES.txt']), 'linux-x86_64')).toEqual({
      rebuilt: ['helix-studio-1.4.0-linux-x86_64.zip', 'plugins/hello-1.0.0.zip'],
      carried: ['helix-studio-1.4.0-macos-arm64.zip', 'helix-studio-1.4.0-windows-x86_64.zip', 'notes.tar.gz'],
    });
  });

  it('counts a custom stage\'s output as made by the release, not imported, and another platform\'s installers as carried', () => {
    const onMac = importedSet(imported, new Set(), 'macos-arm64');
    expect(onMac.rebuilt).toEqual(['helix-studio-1.4.0-macos-arm64.zip', 'plugins/hello-1.0.0.zip']);
    expect(onMac.carried).toContain('THIRD_PARTY_LICENSES.txt');
    expect(onMac.carried).toContain('helix-studio-1.4.0-linux-x86_64.zip');
  });

  it('says NOT REBUILT for a carried file, and neither MATCH nor FAILED', () => {
    const [line] = verdictLines([{ name: 'helix-studio-1.4.0-windows-x86_64.zip', sha256: 'a', rebuiltSha256: 'a', verdict: 'NOT_REBUILT' }]);
    expect(line).toMatch(/^NOT REBUILT helix-studio-1\.4\.0-windows-x86_64\.zip: built for another platform/);
  });
});

describe('a plugin zip rebuilt with another key', () => {
  const zip = async (dir: string, name: string, files: Record<string, string>, epoch = 1_700_000_000) => {
    const out = join(dir, name);
    await writeReproducibleZip(out, Object.entries(files).map(([n, data]) => ({ name: n, kind: 'buffer' as const, data: Buffer.from(data) })), epoch);
    return readFile(out);
  };

  it('is the same but for SIGNATURE.ed25519 when only that entry differs, and not when anything else does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helix-samezip-'));
    try {
      const base = { 'plugin.json': '{"name":"hello"}', 'hello/__init__.py': 'x = 1\n' };
      const a = await zip(dir, 'a.zip', { ...base, 'SIGNATURE.ed25519': 'key one, signature one' });
      const b = await zip(dir, 'b.zip', { ...base, 'SIGNATURE.ed25519': 'key two, a longer signature two' });
      expect(a.equals(b)).toBe(false);
      expect(sameZipBut(a, b, 'SIGNATURE.ed25519')).toBe(true);
      expect(sameZipBut(a, b, 'plugin.json')).toBe(false);
      const code = await zip(dir, 'c.zip', { ...base, 'hello/__init__.py': 'x = 2\n', 'SIGNATURE.ed25519': 'key two, a longer signature two' });
      expect(sameZipBut(a, code, 'SIGNATURE.ed25519')).toBe(false);
      const dated = await zip(dir, 'd.zip', { ...base, 'SIGNATURE.ed25519': 'key one, signature one' }, 1_600_000_000);
      expect(sameZipBut(a, dated, 'SIGNATURE.ed25519')).toBe(false);
      const more = await zip(dir, 'e.zip', { ...base, 'extra.txt': '', 'SIGNATURE.ed25519': 'key one, signature one' });
      expect(sameZipBut(a, more, 'SIGNATURE.ed25519')).toBe(false);
      expect(sameZipBut(a, Buffer.from('not a zip'), 'SIGNATURE.ed25519')).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is signed with a fresh Ed25519 key each time', () => {
    const [one, two] = [throwawayPluginKey(), throwawayPluginKey()];
    expect(createPrivateKey(one).asymmetricKeyType).toBe('ed25519');
    expect(one).not.toBe(two);
  });

  it('is reported as a match but for its signature entry', () => {
    const [line] = verdictLines([{ name: 'plugins/hello-1.0.0.zip', sha256: 'a', rebuiltSha256: 'a', verdict: 'MATCH_BUT_PLUGIN_SIGNATURE' }]);
    expect(line).toMatch(/^MATCH plugins\/hello-1\.0\.0\.zip, but for its SIGNATURE\.ed25519 \(rebuilt with a throwaway key/);
  });
});

describe('the OS packages an installer bundles, as the provenance records them', () => {
  it('reads type, name (with the deb architecture) and version of a purl, and nothing of another kind', () => {
    expect(osPackageOf('pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12')).toEqual({ type: 'deb', name: 'libssl3:amd64', version: '3.0.19-1~deb12u2' });
    expect(osPackageOf('pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1')).toEqual({ type: 'deb', name: 'zlib1g', version: '1:1.2.13.dfsg-1' });
    expect(osPackageOf('pkg:rpm/fedora/openssl-libs@3.2.2-1.fc41?arch=x86_64')).toEqual({ type: 'rpm', name: 'openssl-libs', version: '3.2.2-1.fc41' });
    expect(osPackageOf('pkg:pypi/cffi@2.1.1')).toBeUndefined();
    expect(osPackageOf('pkg:generic/debian@12')).toBeUndefined();
  });
});
