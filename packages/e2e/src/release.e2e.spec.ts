/**
 * The sample release as a user gets it from `npx nx run release:all`: the
 * Studio zip runs, the sums check with the real sha256sum, the SBOMs are valid
 * SPDX (checked by spdx-tools, which this project did not write), NTIA-conformant
 * (ntia-conformance-checker) and list the locked packages and what else the
 * Studio ships, their CycloneDX twins are valid CycloneDX 1.6
 * (cyclonedx-python-lib) and list the same, the provenance is bound to HEAD, and the source document's
 * verified install flow passes in an empty folder with no Node.js modules.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles, toolchainPaths } from '@helix-release/core';
import { parseBuildMeta, parseSums } from '@helix-release/format';
import { git, repoRoot, run } from './workspace';

const ws = inject('baseWorkspace');
const release = join(ws, 'dist/release');
const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'helix-release-e2e-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function installerName(): Promise<string> {
  const zips = (await readdir(release)).filter((f) => /^helix-studio-.*\.zip$/.test(f));
  expect(zips).toHaveLength(1);
  return zips[0]!;
}

describe('the sample release', () => {
  it('has a Studio zip whose unpacked binary prints its version', async () => {
    const zip = await installerName();
    const dir = join(scratch, 'unpacked');
    await mkdir(dir);
    execFileSync('unzip', ['-q', join(release, zip)], { cwd: dir });
    const bin = join(dir, zip.replace(/\.zip$/, ''), 'helix-studio');
    const r = await run(bin, ['--version'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('helix-studio 1.4.0');
  });

  it('passes `sha256sum -c --strict SHA256SUMS.txt`, which lists every zip and both SBOMs of each', async () => {
    const r = await run('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: release });
    expect(r.code, r.output).toBe(0);
    const listed = parseSums(await readFile(join(release, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt').map((l) => l.path);
    const present = await listFiles(release);
    const zips = present.filter((f) => f.endsWith('.zip') && !f.startsWith('conformance-pack/'));
    const sboms = present.filter((f) => /^SBOM-.*\.spdx\.json$/.test(f));
    const boms = present.filter((f) => /^SBOM-.*\.cdx\.json$/.test(f));
    // Two installers (the Studio, helix-greeter) and two plugins.
    expect(zips.length).toBe(4);
    expect(sboms.length).toBe(zips.length);
    expect(boms.sort()).toEqual(zips.map((z) => `SBOM-${z.split('/').pop()}.cdx.json`).sort());
    for (const f of [...zips, ...sboms, ...boms, 'conformance-results.json', 'THIRD_PARTY_LICENSES.txt']) expect(listed).toContain(f);
  });

  it('has valid SPDX 2.3 SBOMs (pyspdxtools) and the Studio SBOM lists the locked packages as pkg:pypi purls', async () => {
    const pyspdxtools = join(toolchainPaths(repoRoot).venv, 'bin', 'pyspdxtools');
    for (const sbom of (await readdir(release)).filter((f) => /^SBOM-.*\.spdx\.json$/.test(f))) {
      const r = await run(pyspdxtools, ['-i', join(release, sbom)], { cwd: scratch });
      expect(r.code, `${sbom}: ${r.output}`).toBe(0);
    }
    const zip = await installerName();
    const doc = JSON.parse(await readFile(join(release, `SBOM-${zip}.spdx.json`), 'utf8')) as { packages: { externalRefs?: { referenceLocator: string }[] }[] };
    const purls = doc.packages.flatMap((p) => (p.externalRefs ?? []).map((r) => r.referenceLocator));
    const requirements = await readFile(join(ws, 'workspace-fixtures/studio/requirements.txt'), 'utf8');
    const locked = [...requirements.matchAll(/^([a-z0-9-]+)==([^\s;]+)/gm)].map((m) => `pkg:pypi/${m[1]}@${m[2]}`);
    expect(locked.length).toBeGreaterThanOrEqual(3);
    for (const purl of locked) expect(purls).toContain(purl);
  });

  it('has NTIA-conformant SPDX SBOMs (ntia-conformance-checker, NTIA profile)', async () => {
    const sbomcheck = join(toolchainPaths(repoRoot).venv, 'bin', 'sbomcheck');
    const sboms = (await readdir(release)).filter((f) => /^SBOM-.*\.spdx\.json$/.test(f));
    expect(sboms.length).toBe(4);
    for (const sbom of sboms) {
      const r = await run(sbomcheck, ['--comply', 'ntia', '--output', 'json', join(release, sbom)], { cwd: scratch });
      expect(r.code, `${sbom}: ${r.output}`).toBe(0);
      const report = JSON.parse(r.stdout) as { isNtiaConformant: boolean; validationMessages: unknown[]; componentSuppliers: { allProvided: boolean } };
      expect(report.isNtiaConformant, `${sbom}: ${r.stdout}`).toBe(true);
      expect(report.validationMessages).toEqual([]);
      expect(report.componentSuppliers.allProvided).toBe(true);
    }
  });

  it("has a Studio SBOM that names the Python runtime, the bootloader, libcrypto's OS package and cryptography's bundled components, and lists every file of the zip", async () => {
    const zip = await installerName();
    type Doc = {
      packages: { SPDXID: string; name: string; versionInfo?: string; supplier?: string; externalRefs?: { referenceType: string; referenceLocator: string }[]; checksums?: { algorithm: string; checksumValue: string }[] }[];
      files: { SPDXID: string; fileName: string; checksums: { algorithm: string; checksumValue: string }[] }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
      creationInfo: { creators: string[] };
    };
    const doc = JSON.parse(await readFile(join(release, `SBOM-${zip}.spdx.json`), 'utf8')) as Doc;
    const purls = (p: Doc['packages'][number]) => (p.externalRefs ?? []).filter((r) => r.referenceType === 'purl').map((r) => r.referenceLocator);
    const byPurl = (re: RegExp) => doc.packages.find((p) => purls(p).some((u) => re.test(u)));
    const sbomPkg = JSON.parse(await readFile(join(repoRoot, 'packages/sbom/package.json'), 'utf8')) as { version: string };
    expect(doc.creationInfo.creators).toContain(`Tool: helix-release-${sbomPkg.version}`);
    expect(doc.creationInfo.creators.filter((c) => c.startsWith('Organization: '))).toEqual(['Organization: helix-studio']);
    const described = doc.relationships.find((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')!.relatedSpdxElement;
    const root = doc.packages.find((p) => p.SPDXID === described)!;
    const zipSha = createHash('sha256').update(await readFile(join(release, zip))).digest('hex');
    expect(root).toMatchObject({ name: 'helix-studio', versionInfo: '1.4.0', supplier: 'Organization: helix-studio' });
    expect(purls(root)).toEqual(['pkg:generic/helix-studio@1.4.0']);
    expect(root.checksums).toContainEqual({ algorithm: 'SHA256', checksumValue: zipSha });
    const contained = (id: string) => doc.relationships.filter((r) => r.spdxElementId === id && r.relationshipType === 'CONTAINS').map((r) => r.relatedSpdxElement);

    // The runtime, with the sha256 of the libpython inside the zip.
    const entries = execFileSync('unzip', ['-Z1', join(release, zip)], { encoding: 'utf8' }).split('\n').filter((n) => n && !n.endsWith('/'));
    const libpython = entries.find((n) => /\/libpython3\.\d+\.so[.\d]*$/.test(n))!;
    const libpythonSha = createHash('sha256').update(execFileSync('unzip', ['-p', join(release, zip), libpython], { maxBuffer: 1 << 28 })).digest('hex');
    const python = byPurl(/^pkg:generic\/python@3\.\d+\.\d+$/);
    expect(python?.checksums).toContainEqual({ algorithm: 'SHA256', checksumValue: libpythonSha });
    expect(contained(described)).toContain(python!.SPDXID);
    // The bootloader, at the PyInstaller version the package stage used.
    const boot = byPurl(/^pkg:pypi\/pyinstaller@\d/);
    expect(boot?.name).toBe('pyinstaller-bootloader');
    expect(contained(described)).toContain(boot!.SPDXID);
    // libcrypto.so.3, byte-identical to the build host's, from Debian's libssl3.
    const ssl = byPurl(/^pkg:deb\/debian\/libssl3@[^?]+\?arch=/);
    expect(ssl, doc.packages.map((p) => purls(p).join(' ')).join('\n')).toBeDefined();
    const libcrypto = doc.files.find((f) => /\/libcrypto\.so\.3$/.test(f.fileName))!;
    expect(contained(ssl!.SPDXID)).toContain(libcrypto.SPDXID);
    // cryptography's own SBOM (PEP 770): its Rust crates and the OpenSSL it links statically.
    const cryptography = byPurl(/^pkg:pypi\/cryptography@/)!;
    expect(cryptography.checksums?.some((c) => c.algorithm === 'SHA256')).toBe(true);
    const bundled = contained(cryptography.SPDXID).map((id) => doc.packages.find((p) => p.SPDXID === id)).filter((p) => p !== undefined);
    expect(bundled.flatMap(purls)).toEqual(expect.arrayContaining([expect.stringMatching(/^pkg:generic\/openssl@\d/), expect.stringMatching(/^pkg:cargo\/pyo3@/)]));

    // Every file of the zip is listed with its sha256, and each belongs to a package.
    const owned = new Set(doc.relationships.filter((r) => r.relationshipType === 'CONTAINS').map((r) => r.relatedSpdxElement));
    const files = new Map(doc.files.map((f) => [f.fileName.replace(/^\//, ''), f]));
    for (const name of entries) {
      const f = files.get(name);
      expect(f, `${name} is not in the SBOM`).toBeDefined();
      expect(f!.checksums.some((c) => c.algorithm === 'SHA256'), name).toBe(true);
      expect(owned.has(f!.SPDXID), `${name} belongs to no package`).toBe(true);
    }
    expect(doc.files.some((f) => f.checksums.some((c) => c.checksumValue === '0'.repeat(40)))).toBe(false);
  });

  it('has valid CycloneDX 1.6 SBOMs (cyclonedx-python-lib JsonStrictValidator), one per SPDX SBOM', async () => {
    const python = join(toolchainPaths(repoRoot).venv, 'bin', 'python');
    const boms = (await readdir(release)).filter((f) => /^SBOM-.*\.cdx\.json$/.test(f)).sort();
    expect(boms.length).toBe(4);
    const r = await run(python, [join(repoRoot, 'tools/tests/validate_cyclonedx.py'), ...boms.map((f) => join(release, f))], { cwd: scratch });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(boms.map((f) => `VALID ${join(release, f)}`));
    // The same validator fails a BOM of this release with one required field taken out (the check can fail).
    const broken = JSON.parse(await readFile(join(release, boms[0]!), 'utf8')) as { metadata: { component: Record<string, unknown> } };
    delete broken.metadata.component['type'];
    await writeFile(join(scratch, 'broken.cdx.json'), JSON.stringify(broken));
    const bad = await run(python, [join(repoRoot, 'tools/tests/validate_cyclonedx.py'), join(scratch, 'broken.cdx.json')], { cwd: scratch });
    expect(bad.code, bad.output).toBe(1);
    expect(bad.stdout).toMatch(/^INVALID .*broken\.cdx\.json: \$\.metadata\.component: 'type' is a required property$/m);
  });

  it('has a provenance and conformance results that in-toto-attestation validates as Statements', async () => {
    const python = join(toolchainPaths(repoRoot).venv, 'bin', 'python');
    const files = ['release-provenance.intoto.json', 'conformance-results.json'].map((f) => join(release, f));
    const r = await run(python, [join(repoRoot, 'tools/tests/validate_intoto_statement.py'), ...files], { cwd: scratch });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(files.map((f) => `VALID ${f}`));
  });

  it("has a Studio CycloneDX SBOM that lists what its SPDX SBOM lists: the runtime, the bootloader, libcrypto's OS package, cryptography's components, every file", async () => {
    const zip = await installerName();
    type Component = { 'bom-ref': string; type: string; name: string; version?: string; purl?: string; supplier?: { name: string }; hashes?: { alg: string; content: string }[]; evidence?: { occurrences: { location: string }[] } };
    type Bom = { specVersion: string; serialNumber: string; metadata: { timestamp: string; tools: { components: { name: string; version?: string }[] }; manufacturer: { name: string }; component: Component }; components: Component[]; dependencies: { ref: string; dependsOn: string[] }[] };
    type Spdx = { creationInfo: { created: string }; packages: { SPDXID: string; name: string; versionInfo?: string; externalRefs?: { referenceType: string; referenceLocator: string }[] }[] };
    const bom = JSON.parse(await readFile(join(release, `SBOM-${zip}.cdx.json`), 'utf8')) as Bom;
    const spdx = JSON.parse(await readFile(join(release, `SBOM-${zip}.spdx.json`), 'utf8')) as Spdx;
    const zipSha = createHash('sha256').update(await readFile(join(release, zip))).digest('hex');
    const sbomPkg = JSON.parse(await readFile(join(repoRoot, 'packages/sbom/package.json'), 'utf8')) as { version: string };
    expect(bom.specVersion).toBe('1.6');
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(bom.metadata.timestamp).toBe(spdx.creationInfo.created);
    expect(bom.metadata.tools.components).toContainEqual({ type: 'application', name: 'helix-release', version: sbomPkg.version });
    expect(bom.metadata.manufacturer).toEqual({ name: 'helix-studio' });
    expect(bom.metadata.component).toMatchObject({ type: 'application', name: 'helix-studio', version: '1.4.0', purl: 'pkg:generic/helix-studio@1.4.0', supplier: { name: 'helix-studio' } });
    expect(bom.metadata.component.hashes).toContainEqual({ alg: 'SHA-256', content: zipSha });

    // The same packages as the SPDX document: names, versions, purls.
    const purl = (p: Spdx['packages'][number]) => p.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
    const fromSpdx = spdx.packages.filter((p) => p.SPDXID !== bom.metadata.component['bom-ref']).map((p) => `${p.name} ${p.versionInfo} ${purl(p)}`).sort();
    const fromBom = bom.components.filter((c) => c.type !== 'file').map((c) => `${c.name} ${c.version ?? 'NOASSERTION'} ${c.purl}`).sort();
    expect(fromBom).toEqual(fromSpdx);

    const byPurl = (re: RegExp) => bom.components.find((c) => c.purl !== undefined && re.test(c.purl));
    const dependsOn = (ref: string) => bom.dependencies.find((d) => d.ref === ref)?.dependsOn ?? [];
    const root = bom.metadata.component['bom-ref'];
    const entries = execFileSync('unzip', ['-Z1', join(release, zip)], { encoding: 'utf8' }).split('\n').filter((n) => n && !n.endsWith('/'));
    const libpython = entries.find((n) => /\/libpython3\.\d+\.so[.\d]*$/.test(n))!;
    const libpythonSha = createHash('sha256').update(execFileSync('unzip', ['-p', join(release, zip), libpython], { maxBuffer: 1 << 28 })).digest('hex');
    const python = byPurl(/^pkg:generic\/python@3\.\d+\.\d+$/);
    expect(python?.hashes).toContainEqual({ alg: 'SHA-256', content: libpythonSha });
    expect(python?.evidence?.occurrences).toContainEqual({ location: libpython });
    const boot = byPurl(/^pkg:pypi\/pyinstaller@\d/);
    expect(boot?.name).toBe('pyinstaller-bootloader');
    const ssl = byPurl(/^pkg:deb\/debian\/libssl3@[^?]+\?arch=/);
    expect(ssl, bom.components.map((c) => c.purl).join('\n')).toBeDefined();
    expect(ssl!.evidence?.occurrences.map((o) => o.location)).toContainEqual(expect.stringMatching(/\/libcrypto\.so\.3$/));
    for (const c of [python!, boot!, ssl!]) expect(dependsOn(root)).toContain(c['bom-ref']);
    const cryptography = byPurl(/^pkg:pypi\/cryptography@/)!;
    expect(cryptography.hashes?.some((h) => h.alg === 'SHA-256')).toBe(true);
    const bundled = dependsOn(cryptography['bom-ref']).map((ref) => bom.components.find((c) => c['bom-ref'] === ref)?.purl ?? '');
    expect(bundled).toEqual(expect.arrayContaining([expect.stringMatching(/^pkg:generic\/openssl@\d/), expect.stringMatching(/^pkg:cargo\/pyo3@/)]));

    // Every file of the zip is some component's occurrence or a file component with its SHA-256, not both.
    const located = new Map<string, number>();
    for (const c of bom.components) for (const o of c.evidence?.occurrences ?? []) located.set(o.location, (located.get(o.location) ?? 0) + 1);
    const files = new Map(bom.components.filter((c) => c.type === 'file').map((c) => [c.name, c]));
    for (const name of entries) {
      expect((located.get(name) ?? 0) + (files.has(name) ? 1 : 0), `${name} is accounted for once`).toBe(1);
      if (files.has(name)) expect(files.get(name)!.hashes?.some((h) => h.alg === 'SHA-256'), name).toBe(true);
    }
  });

  it('binds the provenance to HEAD and to exactly the files of SHA256SUMS.txt', async () => {
    const st = JSON.parse(await readFile(join(release, 'release-provenance.intoto.json'), 'utf8')) as {
      subject: { name: string; digest: { sha256: string } }[];
      predicate: { buildDefinition: { externalParameters: { source: { digest: { gitCommit: string } } } } };
    };
    const sums = parseSums(await readFile(join(release, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt');
    expect(new Set(st.subject.map((s) => `${s.digest.sha256}  ${s.name}`))).toEqual(new Set(sums.map((l) => `${l.sha256}  ${l.path}`)));
    expect(st.predicate.buildDefinition.externalParameters.source.digest.gitCommit).toBe(git(ws, 'rev-parse', 'HEAD'));
  });

  it('names the syft that wrote the SBOMs by the sha256 of its binary, in BUILD_META.txt and the provenance, with the pinned module sum', async () => {
    const syft = createHash('sha256').update(await readFile(toolchainPaths(ws).syftLocal)).digest('hex');
    const meta = parseBuildMeta(await readFile(join(release, 'BUILD_META.txt'), 'utf8'), 'BUILD_META.txt');
    expect(meta.fields.get('syft-sha256')).toBe(syft);
    const st = JSON.parse(await readFile(join(release, 'release-provenance.intoto.json'), 'utf8')) as { predicate: { buildDefinition: { resolvedDependencies: { uri?: string; digest?: { sha256: string }; annotations?: Record<string, string> }[] } } };
    const dep = st.predicate.buildDefinition.resolvedDependencies.find((d) => d.uri?.startsWith('pkg:golang/github.com/anchore/syft@'));
    const pins = JSON.parse(await readFile(join(repoRoot, 'tools/toolchain/pins.json'), 'utf8')) as { syft: { version: string; sum: string } };
    expect(dep?.digest?.sha256).toBe(syft);
    expect(dep?.annotations?.['moduleSum']).toBe(pins.syft.sum);
    // The go tool reads the same build information as resolveSyft did.
    expect(execFileSync('go', ['version', '-m', toolchainPaths(ws).syftLocal], { encoding: 'utf8' })).toContain(`\tgithub.com/anchore/syft\t${pins.syft.version}\t${pins.syft.sum}`);
  });

  it('passes the verified install flow of the source document in a folder holding only the published files', async () => {
    const published = join(scratch, 'published');
    await cp(release, published, { recursive: true });
    const gnupg = join(scratch, 'gnupg');
    await mkdir(gnupg, { mode: 0o700 });
    // No Node.js modules anywhere: not in the folder or above it, not on PATH.
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', GNUPGHOME: gnupg, HOME: scratch, LANG: 'C.UTF-8' };
    const above = (await run('sh', ['-c', 'd=$PWD; while [ "$d" != / ]; do [ -e "$d/node_modules" ] && echo "$d"; d=$(dirname "$d"); done; true'], { cwd: published, env })).stdout;
    expect(above).toBe('');
    expect((await listFiles(published)).filter((f) => f.includes('node_modules'))).toEqual([]);
    const step = async (cmd: string, args: string[], cwd = published) => {
      const r = await run(cmd, args, { cwd, env });
      expect(r.code, `${cmd} ${args.join(' ')}\n${r.output}`).toBe(0);
      return r;
    };
    await step('gpg', ['--batch', '--import', 'release-signing-public-key.asc']);
    const gpgVerify = await step('gpg', ['--batch', '--verify', 'SHA256SUMS.txt.asc', 'SHA256SUMS.txt']);
    expect(gpgVerify.stderr).toMatch(/Good signature/);
    expect(gpgVerify.stderr.replace(/ /g, '')).toContain(DEV_FINGERPRINT);
    await step('sha256sum', ['-c', 'SHA256SUMS.txt']);
    const signatures = await step('python3', ['tools/verify_release_signatures.py', '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--trust-store', join(repoRoot, 'workspace-fixtures/trust-store/trust-store.json')]);
    expect(signatures.stdout).not.toMatch(/^FAILED/m);
    const provenance = await step('python3', ['tools/verify_release_provenance.py', '--commit', git(ws, 'rev-parse', 'HEAD')]);
    expect(provenance.stdout).toMatch(/^PASSED/m);
    const install = join(scratch, 'install');
    await mkdir(install);
    const zip = await installerName();
    await step('unzip', ['-q', join(published, zip)], install);
    const conformance = await step('./tools/conformance.sh', ['--app', join(install, zip.replace(/\.zip$/, ''), 'helix-studio'), '--plugins', join(published, 'plugins')]);
    expect(conformance.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('runs docs/release-verification.md as written, in a folder of the downloaded files, with the output it shows', async () => {
    const download = join(scratch, 'download');
    await cp(release, download, { recursive: true });
    const home = join(scratch, 'doc-home');
    await mkdir(home);
    const doc = await readFile(join(repoRoot, 'docs/release-verification.md'), 'utf8');
    // Every ```sh block, each with the first output block after it (the one that describes the sample).
    const blocks: { commands: string; expected: string[] }[] = [];
    const fence = /```(\w*)\n([^]*?)```/g;
    let pending: { commands: string; expected: string[] } | undefined;
    for (const m of doc.matchAll(fence)) {
      if (m[1] === 'sh') {
        pending = { commands: m[2]!, expected: [] };
        blocks.push(pending);
      } else if (pending && pending.expected.length === 0) {
        pending.expected = m[2]!.split('\n');
      }
    }
    // The Node.js route needs node and this repository, which the flow must not: it is tested below.
    const flow = blocks.filter((b) => !/^npx /m.test(b.commands));
    expect(flow.length).toBeGreaterThanOrEqual(6);
    const head = git(ws, 'rev-parse', 'HEAD');
    // One shell, as a user types it: the GNUPGHOME of step 0 holds for the rest; stderr in order with stdout.
    const blockScript = (b: (typeof flow)[number], i: number) => {
      const commands = b.commands
        .replace(/<the commit you expect>/g, head)
        .replace(/ \[--[^\]]*\]/g, '') // optional parts, as a user leaves them out
        .replace(/<release>/g, download);
      return `echo "=== block ${i}"\n${commands}\necho "=== exit $?"`;
    };
    const script = ['exec 2>&1', ...flow.map(blockScript)].join('\n');
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8' };
    const r = await run('bash', ['-c', script], { cwd: download, env });
    const outputs = r.output.split(/^=== block \d+\n/m).slice(1);
    expect(outputs).toHaveLength(flow.length);
    flow.forEach((b, i) => {
      const out = outputs[i]!;
      const exit = Number(/^=== exit (\d+)$/m.exec(out)?.[1]);
      // The sample is signed by the DEVELOPMENT key: step 3 fails as the doc says it does; every other step passes.
      const refusesDevKey = b.commands.includes('verify_release_signatures.py') && !b.commands.includes('--allow-development-key');
      expect(exit, `${b.commands}\n${out}`).toBe(refusesDevKey ? 1 : 0);
      // Each result line the doc shows is printed (gpg's lines hold dates and vary, '…' stands for more).
      const shown = b.expected.filter((line) => /^(PASSED |FAILED |WARN |SKIPPED |PASS |\d+ passed, \d+ failed$|\S+: OK$)/.test(line));
      for (const line of shown) expect(out.split('\n'), `the doc shows ${JSON.stringify(line)} after\n${b.commands}\nbut the output is\n${out}`).toContain(line);
    });
    expect(flow.some((b) => b.expected.some((l) => l.startsWith('FAILED KEY_DEVELOPMENT')))).toBe(true);
  });

  it('passes `helix-release verify` with the pinned development fingerprint and HEAD', async () => {
    const r = await run(process.execPath, [join(repoRoot, 'packages/cli/bin/helix-release.cjs'), 'verify', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--commit', git(ws, 'rev-parse', 'HEAD'), '--trust-store', join(repoRoot, 'workspace-fixtures/trust-store/trust-store.json')], { cwd: ws });
    expect(r.code, r.output).toBe(0);
    // The sample's DEVELOPMENT key, accepted explicitly: the one warning.
    expect(r.stdout).toMatch(/^WARN KEY_DEVELOPMENT: release-signing-public-key\.asc: /m);
    expect(r.stdout).toMatch(/^verification PASSED with 1 accepted warning\(s\)$/m);
    expect(r.stdout).not.toMatch(/^FAILED/m);
  });
});
