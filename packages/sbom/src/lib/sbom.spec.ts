import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  ReleaseRecords,
  describeReleaseFile,
  epochToIso,
  goBuildInfoBlock,
  memoryLogger,
  resolveConfig,
  sha256Hex,
  stableJson,
  stageRecordPath,
  writeStageRecord,
  type LockReport,
  type ReleaseArtifact,
  type StageContext,
  type ToolchainPins,
} from '@helix-release/core';
import { sbomName, sbomNames, uuidV5 } from '@helix-release/format';
import { artifactSbomStage, sbomStage } from './sbom';
import { cyclonedxFromSpdx } from './cyclonedx';
import { HELIX_CREATOR, NAMESPACE_BASE, type SpdxDocument } from './normalise';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
/** The syft version the repository pins, as syft reports it (no `v`). */
const SYFT_PIN = (JSON.parse(readFileSync(join(REPO_ROOT, 'tools', 'toolchain', 'pins.json'), 'utf8')) as ToolchainPins).syft;
const PINNED_SYFT = SYFT_PIN.version.replace(/^v/, '');
const SDE = 1_700_000_000;

const INSTALLER = 'helix-studio-1.4.0-linux-x86_64.zip';
const PLUGIN = 'plugins/hello-1.0.0.zip';
const LICENSES = 'THIRD_PARTY_LICENSES.txt';
const LOCK: LockReport = {
  app: 'helix-studio',
  lockfiles: [{ path: 'apps/studio/requirements.txt', sha256: sha256Hex('requirements') }],
  packages: [
    { name: 'cffi', version: '2.1.1', marker: '', hashes: [] },
    { name: 'cryptography', version: '50.0.2', marker: '', hashes: [] },
    { name: 'pywin32', version: '306', marker: "sys_platform == 'win32'", hashes: [] },
  ],
};
/** The records of an installer build (with its lock) and, in REFS, a plugin and a custom report. */
const INSTALLER_REFS = ['helix-studio/lock', 'helix-studio/package'];
const REFS = [...INSTALLER_REFS, 'plugin-hello/plugin-zip', 'release/license-report'];
const config = resolveConfig({ apps: { root: 'apps' }, plugins: { root: 'plugins' } });

let ws: string;
let ctx: StageContext & { logger: { lines: string[] } };
let fakeDir: string;
let artifacts: Map<string, ReleaseArtifact>;

/**
 * A fake syft: answers `version -o json` with the pinned version, and
 * `scan file:<path> -o spdx-json --source-name <name> …` with the contents of
 * `<fakeDir>/out/<name>` (so each artifact gets its own document), logging
 * its arguments and the settings it ran with to `<fakeDir>/calls.log`. It
 * carries the Go build information of the pinned module (after its `exec`,
 * where sh never reads), as resolveSyft requires of a syft.
 */
async function writeFakeSyft(): Promise<string> {
  const syft = join(fakeDir, 'syft');
  await mkdir(join(fakeDir, 'out'), { recursive: true });
  await writeFile(
    syft,
    Buffer.concat([Buffer.from([
      '#!/bin/sh',
      'here=$(dirname "$0")',
      `if [ "$1 $2 $3" = "version -o json" ]; then printf '{"application":"syft","version":"%s"}\\n' '${PINNED_SYFT}'; exit 0; fi`,
      '[ "$1" = scan ] && [ "$3 $4 $5" = "-o spdx-json --source-name" ] || { echo "unexpected arguments: $*" >&2; exit 2; }',
      'printf \'%s | %s %s\\n\' "$*" "$SYFT_CHECK_FOR_APP_UPDATE" "$TZ" >> "$here/calls.log"',
      'exec cat "$here/out/$6"',
      '',
    ].join('\n')), goBuildInfoBlock({ path: SYFT_PIN.module, module: SYFT_PIN.module.replace(/\/cmd\/syft$/, ''), version: SYFT_PIN.version, sum: SYFT_PIN.sum })]),
    { mode: 0o755 },
  );
  return syft;
}

/** The sha256 of the fake's file: what the records name the syft by. */
const fakeSyftSha256 = async () => sha256Hex(await readFile(join(fakeDir, 'syft')));

/** What the fake prints for an artifact. */
const scanOutput = (artifactPath: string, text: string) => writeFile(join(fakeDir, 'out', artifactPath.split('/').pop()!), text);

/** A minimal SPDX 2.3 document as syft writes it: wall-clock time, random namespace, pypi purls, arrays in no order. */
function syftDocument(source: string, pypi: readonly [string, string][]): SpdxDocument {
  // As syft writes them, with the checksum values normalise.ts does not type.
  const files = [
    { fileName: '/b.py', SPDXID: 'SPDXRef-File-b', checksums: [{ algorithm: 'SHA256', checksumValue: sha256Hex('b') }, { algorithm: 'SHA1', checksumValue: 'b'.repeat(40) }] },
    { fileName: '/a.py', SPDXID: 'SPDXRef-File-a', checksums: [{ algorithm: 'SHA1', checksumValue: 'a'.repeat(40) }] },
  ];
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: source,
    documentNamespace: `https://anchore.com/syft/file/${source}-0b0c4a4e-8d7e-4c39-9d4b-2f1c6a9e1f00`,
    creationInfo: { licenseListVersion: '3.27', creators: ['Organization: Anchore, Inc', `Tool: syft-${PINNED_SYFT}`], created: '2031-05-06T07:08:09Z' },
    packages: [
      ...[...pypi].reverse().map(([name, version]) => ({
        name,
        SPDXID: `SPDXRef-Package-python-${name}-${version}`,
        versionInfo: version,
        downloadLocation: 'NOASSERTION',
        externalRefs: [
          { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:pypi/${name}@${version}` },
          { referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: `cpe:2.3:a:python-${name}:${name}:${version}:*:*:*:*:*:*:*` },
        ],
      })),
      { name: source, SPDXID: 'SPDXRef-DocumentRoot-File-x', versionInfo: '1.4.0', downloadLocation: 'NOASSERTION' },
    ],
    files,
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-DocumentRoot-File-x' },
      { spdxElementId: 'SPDXRef-DocumentRoot-File-x', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-File-a' },
    ],
  };
}
const INSTALLER_PYPI: [string, string][] = [
  ['cffi', '2.1.1'],
  ['cryptography', '50.0.2'],
  ['pip', '25.3'],
];

/** Writes a release file and the record of the stage that produced it. */
async function produce(project: string, stage: string, path: string | undefined, extra: Partial<ReleaseArtifact>, data?: unknown): Promise<void> {
  const list: ReleaseArtifact[] = [];
  if (path) {
    await mkdir(dirname(join(ctx.releaseDir, path)), { recursive: true });
    await writeFile(join(ctx.releaseDir, path), `${path} bytes\n`);
    const artifact = await describeReleaseFile(ctx.releaseDir, path, extra.kind ?? 'custom', extra);
    artifacts.set(path, artifact);
    list.push(artifact);
  }
  await writeStageRecord(ws, { project, stage, artifacts: list, ...(data === undefined ? {} : { data }) });
}

const sbomFiles = async () => (await readdir(ctx.releaseDir)).filter((f) => f.startsWith('SBOM-')).sort();

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-sbom-'));
  fakeDir = join(ws, 'fake-syft');
  await mkdir(join(ws, 'tools', 'toolchain'), { recursive: true });
  await writeFile(join(ws, 'tools', 'toolchain', 'pins.json'), await readFile(join(REPO_ROOT, 'tools', 'toolchain', 'pins.json')));
  ctx = {
    stage: 'sbom',
    project: 'release',
    workspaceRoot: ws,
    projectRoot: ws,
    config,
    releaseDir: join(ws, config.releaseDir),
    workDir: join(ws, 'dist', 'work', 'release', 'sbom'),
    sourceDateEpoch: { seconds: SDE, origin: 'git' },
    variant: 'build',
    env: { HELIX_SYFT: await writeFakeSyft() },
    logger: memoryLogger(),
  };
  artifacts = new Map();
  await produce('helix-studio', 'lock', undefined, {}, LOCK);
  await produce('helix-studio', 'package', INSTALLER, { kind: 'installer', sbom: true, name: 'helix-studio', version: '1.4.0', platform: 'linux-x86_64' }, {
    python: '3.11.7',
    pyinstaller: '6.11.1',
    wheels: [],
    executable: 'helix-studio-1.4.0-linux-x86_64/helix-studio',
    entries: 1,
  });
  await produce('plugin-hello', 'plugin-zip', PLUGIN, { kind: 'plugin', sbom: true, name: 'hello', version: '1.0.0' }, { signed: false });
  await produce('release', 'license-report', LICENSES, { kind: 'custom', sbom: false }, { executor: '@acme/license:report' });
  // An SBOM of an artifact the release no longer has, left by an earlier run.
  await writeFile(join(ctx.releaseDir, 'SBOM-helix-studio-1.3.0-linux-x86_64.zip.spdx.json'), '{}\n');
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('sbomStage', () => {
  it('writes one normalised SBOM per artifact that needs one, cross-checks the installer against its lock, and records them', async () => {
    await scanOutput(INSTALLER, JSON.stringify(syftDocument(INSTALLER, INSTALLER_PYPI)));
    await scanOutput(PLUGIN, JSON.stringify(syftDocument('hello-1.0.0.zip', [['hello', '1.0.0']])));
    const written = await sbomStage(ctx, await ReleaseRecords.read(ws, REFS));

    // Two SBOMs (SPDX, CycloneDX) each for the installer and the plugin (not the report); the stale one is gone.
    expect(await sbomFiles()).toEqual([...sbomNames(INSTALLER), ...sbomNames(PLUGIN)].sort());
    for (const path of [INSTALLER, PLUGIN]) {
      const artifact = artifacts.get(path)!;
      const text = await readFile(join(ctx.releaseDir, sbomName(path)), 'utf8');
      const doc = JSON.parse(text) as SpdxDocument;
      expect(text).toBe(stableJson(doc));
      expect(doc.spdxVersion).toBe('SPDX-2.3');
      expect(doc.creationInfo.created).toBe(epochToIso(SDE));
      expect(doc.creationInfo.created).toBe('2023-11-14T22:13:20Z');
      // syft's own organisation is dropped; helix-release and the releasing organisation (by default the product's name) made it.
      expect(doc.creationInfo.creators).toEqual([`Tool: syft-${PINNED_SYFT}`, HELIX_CREATOR, `Organization: ${artifact.name}`]);
      expect(HELIX_CREATOR).toBe(`Tool: helix-release-${(JSON.parse(readFileSync(join(REPO_ROOT, 'packages/sbom/package.json'), 'utf8')) as { version: string }).version}`);
      expect(doc.documentNamespace).toBe(`${NAMESPACE_BASE}/${encodeURIComponent(path)}-${uuidV5(`sha256:${artifact.sha256}`)}`);
      expect(doc.documentNamespace).not.toContain('0b0c4a4e');
      const ids = doc.packages!.map((p) => p.SPDXID);
      expect(ids).toEqual([...ids].sort());
      expect(doc.files!.map((f) => f.fileName)).toEqual(['/a.py', '/b.py']);
      expect(doc.files![1]!.checksums!.map((c) => c.algorithm)).toEqual(['SHA1', 'SHA256']);
      // The CycloneDX SBOM is the same document in the other format, written as deterministically.
      const cdxFile = join(ctx.releaseDir, sbomName(path, 'cyclonedx'));
      expect(await readFile(cdxFile, 'utf8')).toBe(stableJson(cyclonedxFromSpdx(doc, cdxFile)));
    }
    expect(written).toEqual(
      await Promise.all([...sbomNames(INSTALLER), ...sbomNames(PLUGIN)].sort().map((f) => describeReleaseFile(ctx.releaseDir, f, 'sbom', { name: sbomNames(INSTALLER).includes(f) ? INSTALLER : PLUGIN }))),
    );
    const record = (await ReleaseRecords.read(ws, ['release/sbom'])).of('sbom')[0]!;
    expect(record.artifacts).toEqual(written);
    expect(record.data).toEqual({ syft: PINNED_SYFT, syftSha256: await fakeSyftSha256() });

    // syft ran once per artifact, by name and version, with the stage's settings.
    const calls = (await readFile(join(fakeDir, 'calls.log'), 'utf8')).trim().split('\n').sort();
    expect(calls).toEqual(
      [
        `scan file:${join(ctx.releaseDir, INSTALLER)} -o spdx-json --source-name ${INSTALLER} --source-version 1.4.0 | false UTC`,
        `scan file:${join(ctx.releaseDir, PLUGIN)} -o spdx-json --source-name hello-1.0.0.zip --source-version 1.0.0 | false UTC`,
      ].sort(),
    );
    expect(ctx.logger.lines).toContain(`info: ${sbomName(INSTALLER)}: lock cross-check passed (cffi==2.1.1, cryptography==50.0.2; not for this platform: pywin32==306)`);
    expect(ctx.logger.lines).toContain(`warn: ${INSTALLER} bundles Python packages the lock does not list: pip`);
    expect(ctx.logger.lines).toContain('warn: removing SBOM-helix-studio-1.3.0-linux-x86_64.zip.spdx.json: its artifact is no longer part of the release');
  });

  const GARBAGE = 'panic: runtime error: index out of range\n';
  const installerSbom = () => join(ctx.releaseDir, sbomName(INSTALLER));

  it.each<[string, () => Promise<unknown>, string[], { code: string; file: () => string; message: string }]>([
    [
      'SBOM_NAME_CLASH: two artifacts with one file name',
      () => produce('release', 'mirror', 'hello-1.0.0.zip', { kind: 'custom', sbom: true }),
      [...REFS, 'release/mirror'],
      { code: 'SBOM_NAME_CLASH', file: () => 'hello-1.0.0.zip', message: 'hello-1.0.0.zip and plugins/hello-1.0.0.zip would share SBOM-hello-1.0.0.zip.spdx.json; give them different file names' },
    ],
    [
      'SBOM_SYFT_OUTPUT: syft prints no JSON',
      () => scanOutput(INSTALLER, GARBAGE),
      INSTALLER_REFS,
      { code: 'SBOM_SYFT_OUTPUT', file: () => join(ctx.releaseDir, INSTALLER), message: `syft printed no SPDX JSON for this artifact (${GARBAGE.length} bytes of output)` },
    ],
    [
      'SBOM_SYFT_OUTPUT: syft prints another SPDX version',
      () => scanOutput(INSTALLER, JSON.stringify({ ...syftDocument(INSTALLER, INSTALLER_PYPI), spdxVersion: 'SPDX-2.2' })),
      INSTALLER_REFS,
      { code: 'SBOM_SYFT_OUTPUT', file: () => INSTALLER, message: 'syft wrote SPDX-2.2, expected SPDX-2.3' },
    ],
    [
      'SBOM_LOCK_MISSING: the installer lacks a locked package',
      () => scanOutput(INSTALLER, JSON.stringify(syftDocument(INSTALLER, [['cffi', '2.1.1']]))),
      INSTALLER_REFS,
      { code: 'SBOM_LOCK_MISSING', file: installerSbom, message: 'locked package cryptography==50.0.2 (apps/studio/requirements.txt) is not in the SBOM' },
    ],
    [
      'SBOM_LOCK_VERSION: the installer holds another version of a locked package',
      () => scanOutput(INSTALLER, JSON.stringify(syftDocument(INSTALLER, [['cffi', '2.1.1'], ['cryptography', '49.0.0']]))),
      INSTALLER_REFS,
      { code: 'SBOM_LOCK_VERSION', file: installerSbom, message: 'locked package cryptography==50.0.2 appears in the SBOM as 49.0.0' },
    ],
  ])('fails with %s, leaving no SBOM or record behind', async (_what, arrange, refs, expected) => {
    await arrange();
    const err = await sbomStage(ctx, await ReleaseRecords.read(ws, refs)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expected.code, file: expected.file() });
    expect((err as Error).message).toContain(expected.message);
    expect(await sbomFiles()).toEqual(expected.code === 'SBOM_NAME_CLASH' ? ['SBOM-helix-studio-1.3.0-linux-x86_64.zip.spdx.json'] : []);
    expect(existsSync(stageRecordPath(ws, 'release', 'sbom'))).toBe(false);
  });
});

describe('artifactSbomStage, and sbomStage taking its SBOMs over', () => {
  const syftScans = async () => (existsSync(join(fakeDir, 'calls.log')) ? (await readFile(join(fakeDir, 'calls.log'), 'utf8')).trim().split('\n').filter((l) => l.startsWith('scan ')).length : 0);
  const inProject = (project: string): StageContext => ({ ...ctx, project, stage: 'artifact-sbom', workDir: join(ws, 'dist', 'work', project, 'artifact-sbom') });
  const ALL_REFS = [...REFS, 'helix-studio/artifact-sbom', 'plugin-hello/artifact-sbom'];

  beforeEach(async () => {
    await scanOutput(INSTALLER, JSON.stringify(syftDocument(INSTALLER, INSTALLER_PYPI)));
    await scanOutput(PLUGIN, JSON.stringify(syftDocument('hello-1.0.0.zip', [['hello', '1.0.0']])));
  });

  it("writes the SBOM of its project's artifact only, records what it describes, and leaves the other SBOMs alone", async () => {
    const written = await artifactSbomStage(inProject('plugin-hello'), await ReleaseRecords.read(ws, ['plugin-hello/plugin-zip']));
    expect(written.map((w) => [w.path, w.name])).toEqual([[sbomName(PLUGIN), PLUGIN], [sbomName(PLUGIN, 'cyclonedx'), PLUGIN]]);
    // The stale SBOM is the release stage's to remove.
    expect(await sbomFiles()).toEqual([...sbomNames(PLUGIN), 'SBOM-helix-studio-1.3.0-linux-x86_64.zip.spdx.json'].sort());
    const record = (await ReleaseRecords.read(ws, ['plugin-hello/artifact-sbom'])).of('artifact-sbom')[0]!;
    expect(record.data).toEqual({ syft: PINNED_SYFT, syftSha256: await fakeSyftSha256(), artifacts: [{ path: PLUGIN, sha256: artifacts.get(PLUGIN)!.sha256 }] });
    expect(await syftScans()).toBe(1);
  });

  it('an app\'s SBOM is cross-checked against its lock like the release stage\'s', async () => {
    await scanOutput(INSTALLER, JSON.stringify(syftDocument(INSTALLER, [['cffi', '2.1.1']])));
    const err = await artifactSbomStage(inProject('helix-studio'), await ReleaseRecords.read(ws, INSTALLER_REFS)).catch((e: unknown) => e);
    const sbom = join(ctx.releaseDir, sbomName(INSTALLER));
    expect(err).toMatchObject({ code: 'SBOM_LOCK_MISSING', file: sbom });
    expect(existsSync(sbom)).toBe(false);
    expect(existsSync(stageRecordPath(ws, 'helix-studio', 'artifact-sbom'))).toBe(false);
  });

  it('sbomStage takes over SBOMs of exactly the bytes in the release without running syft, and removes the stale one', async () => {
    await artifactSbomStage(inProject('helix-studio'), await ReleaseRecords.read(ws, INSTALLER_REFS));
    await artifactSbomStage(inProject('plugin-hello'), await ReleaseRecords.read(ws, ['plugin-hello/plugin-zip']));
    const all = [...sbomNames(INSTALLER), ...sbomNames(PLUGIN)].sort();
    const perArtifact = await Promise.all(all.map((f) => readFile(join(ctx.releaseDir, f))));
    expect(await syftScans()).toBe(2);
    const out = await sbomStage(ctx, await ReleaseRecords.read(ws, ALL_REFS));
    expect(await syftScans()).toBe(2);
    expect(out.map((o) => o.path)).toEqual(all);
    expect(await sbomFiles()).toEqual(all);
    expect(await Promise.all(all.map((f) => readFile(join(ctx.releaseDir, f))))).toEqual(perArtifact);
    expect((await ReleaseRecords.read(ws, ['release/sbom'])).of('sbom')[0]!.data).toEqual({ syft: PINNED_SYFT, syftSha256: await fakeSyftSha256() });
  });

  it('sbomStage describes anew an artifact whose per-artifact record has no CycloneDX SBOM (a record from before it)', async () => {
    await artifactSbomStage(inProject('helix-studio'), await ReleaseRecords.read(ws, INSTALLER_REFS));
    await artifactSbomStage(inProject('plugin-hello'), await ReleaseRecords.read(ws, ['plugin-hello/plugin-zip']));
    const old = (await ReleaseRecords.read(ws, ['plugin-hello/artifact-sbom'])).of('artifact-sbom')[0]!;
    await rm(join(ctx.releaseDir, sbomName(PLUGIN, 'cyclonedx')));
    await writeStageRecord(ws, { project: 'plugin-hello', stage: 'artifact-sbom', artifacts: old.artifacts.filter((a) => a.path === sbomName(PLUGIN)), data: old.data });
    const calls = await syftScans();
    const out = await sbomStage(ctx, await ReleaseRecords.read(ws, ALL_REFS));
    expect(await syftScans()).toBe(calls + 1);
    expect(out.map((o) => o.path)).toEqual([...sbomNames(INSTALLER), ...sbomNames(PLUGIN)].sort());
    expect(await sbomFiles()).toEqual([...sbomNames(INSTALLER), ...sbomNames(PLUGIN)].sort());
  });

  it('sbomStage describes anew an artifact whose bytes changed after its SBOM was written', async () => {
    await artifactSbomStage(inProject('helix-studio'), await ReleaseRecords.read(ws, INSTALLER_REFS));
    await artifactSbomStage(inProject('plugin-hello'), await ReleaseRecords.read(ws, ['plugin-hello/plugin-zip']));
    // The plugin is rebuilt (same size, other bytes), its SBOM record is not.
    await writeFile(join(ctx.releaseDir, PLUGIN), `${PLUGIN} BYTES\n`);
    const rebuilt = await describeReleaseFile(ctx.releaseDir, PLUGIN, 'plugin', { sbom: true, name: 'hello', version: '1.0.0' });
    await writeStageRecord(ws, { project: 'plugin-hello', stage: 'plugin-zip', artifacts: [rebuilt], data: { signed: false } });
    const calls = await syftScans();
    await sbomStage(ctx, await ReleaseRecords.read(ws, ALL_REFS));
    expect(await syftScans()).toBe(calls + 1);
    const doc = JSON.parse(await readFile(join(ctx.releaseDir, sbomName(PLUGIN)), 'utf8')) as SpdxDocument;
    expect(doc.documentNamespace).toContain(uuidV5(`sha256:${rebuilt.sha256}`));
  });
});
