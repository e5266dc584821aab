import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ReleaseRecords,
  memoryLogger,
  pinnedToolVersion,
  platformTag,
  resolveConfig,
  sha256Hex,
  stableJson,
  writeStageRecord,
  type GitState,
  type ReleaseArtifact,
  type StageContext,
  type StageRecord,
} from '@helix-release/core';
import { buildStatement, osPackagePurls, provenanceStage, sourceUri } from './provenance';
import { BUILD_TYPE, RELEASE_FILES, SLSA_PROVENANCE_V1, STATEMENT_TYPE, formatSums, parseSums, type ProvenanceStatement } from '@helix-release/format';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const GOLDEN = resolve(__dirname, '..', '..', 'testdata', 'statement.golden.json');
const COMMIT_TIME = 1_700_000_000;

/** Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it instead. */
function expectGolden(actual: string, file: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`${file} is missing; run with UPDATE_GOLDEN=1 to create it, then review and commit it`);
  expect(actual, `${file} differs; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(readFileSync(file, 'utf8'));
}

describe('sourceUri', () => {
  const git = (over: Partial<GitState>): GitState => ({ commit: 'c0ffee', tag: undefined, remote: undefined, ref: 'refs/heads/main', dirty: false, changes: [], ...over });
  const actions = { GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.example.com', GITHUB_REPOSITORY: 'acme/helix', GITHUB_REF: 'refs/tags/v1.4.0' };

  it.each<[string, Partial<GitState>, NodeJS.ProcessEnv, string | undefined]>([
    ['strips user:token credentials', { remote: 'https://user:token@git.example.org/acme/helix.git' }, {}, 'git+https://git.example.org/acme/helix.git@refs/heads/main'],
    ['strips a bare token', { remote: 'https://ghp_0123456789abcdef@github.com/acme/helix.git' }, {}, 'git+https://github.com/acme/helix.git@refs/heads/main'],
    ['strips credentials of an http remote, any case of scheme', { remote: 'HTTP://u:p@host/r.git' }, {}, 'git+HTTP://host/r.git@refs/heads/main'],
    ['strips the user of an ssh URL', { remote: 'ssh://git@host.example/acme/helix.git' }, {}, 'git+ssh://host.example/acme/helix.git@refs/heads/main'],
    ['keeps a remote without credentials', { remote: 'https://github.com/acme/helix.git' }, {}, 'git+https://github.com/acme/helix.git@refs/heads/main'],
    ['prefers the tag at HEAD to the branch', { remote: 'https://github.com/acme/helix.git', tag: 'v1.4.0' }, {}, 'git+https://github.com/acme/helix.git@refs/tags/v1.4.0'],
    ['leaves out the ref on a detached HEAD', { remote: 'https://github.com/acme/helix.git', ref: undefined }, {}, 'git+https://github.com/acme/helix.git'],
    ['is undefined without a remote', { remote: undefined }, {}, undefined],
    ['uses GITHUB_* in Actions, ignoring the remote and its credentials', { remote: 'https://x-access-token:secret@github.com/acme/helix' }, actions, 'git+https://github.example.com/acme/helix@refs/tags/v1.4.0'],
    ['uses GITHUB_* in Actions without a remote', { remote: undefined }, actions, 'git+https://github.example.com/acme/helix@refs/tags/v1.4.0'],
    ['defaults the server to github.com in Actions', { remote: undefined }, { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/helix' }, 'git+https://github.com/acme/helix@refs/heads/main'],
    ['does not use GITHUB_REPOSITORY outside Actions', { remote: undefined }, { GITHUB_REPOSITORY: 'acme/helix' }, undefined],
    ['is undefined in Actions without GITHUB_REPOSITORY and without a remote', { remote: undefined }, { GITHUB_ACTIONS: 'true' }, undefined],
  ])('%s', (_what, state, env, expected) => {
    const uri = sourceUri(git(state), env);
    expect(uri).toBe(expected);
    expect(uri ?? '').not.toMatch(/token|secret|u:p@/);
  });
});

function artifact(path: string, kind: ReleaseArtifact['kind'], content: string, extra: Partial<ReleaseArtifact> = {}): ReleaseArtifact & { content: string } {
  return { path, kind, sha256: sha256Hex(content), size: Buffer.byteLength(content), sbom: kind === 'installer' || kind === 'plugin', ...extra, content };
}
const strip = ({ content: _content, ...a }: ReleaseArtifact & { content: string }): ReleaseArtifact => a;

const INSTALLER = artifact('helix-studio-1.4.0-linux-x86_64.zip', 'installer', 'installer bytes', { name: 'helix-studio', version: '1.4.0', platform: 'linux-x86_64' });
const PLUGIN = artifact('plugins/hello-1.0.0.zip', 'plugin', 'plugin bytes', { name: 'hello', version: '1.0.0' });
const LICENSES = artifact('THIRD_PARTY_LICENSES.txt', 'custom', 'licenses');
const RESULTS = artifact('conformance-results.json', 'conformance', '{"results":true}\n');
const CONF_LOG = artifact('conformance.log', 'conformance', 'log\n');
// The installer's SPDX SBOM names an OS package it bundles (the sbom stage finds it by the library's bytes).
const LIBSSL = 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12';
const SBOM_INSTALLER = artifact(`SBOM-${INSTALLER.path}.spdx.json`, 'sbom', `${JSON.stringify({ packages: [{ externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: LIBSSL }] }] })}\n`, { sbom: false, name: INSTALLER.path });
const SBOM_PLUGIN = artifact('SBOM-hello-1.0.0.zip.spdx.json', 'sbom', '{"spdx":2}\n', { sbom: false, name: PLUGIN.path });
// The installer's CycloneDX SBOM; the plugin has none (as an artifact described before CycloneDX SBOMs existed).
const CDX_INSTALLER = artifact(`SBOM-${INSTALLER.path}.cdx.json`, 'sbom', '{"bomFormat":"CycloneDX"}\n', { sbom: false, name: INSTALLER.path });
const SUMMED = [INSTALLER, PLUGIN, LICENSES, RESULTS, CONF_LOG, SBOM_INSTALLER, CDX_INSTALLER, SBOM_PLUGIN];
const SUMS_TEXT = formatSums(SUMMED.map((a) => ({ path: a.path, sha256: a.sha256 })));
const SUMS = artifact(RELEASE_FILES.sums, 'checksums', SUMS_TEXT, { sbom: false });
const META = artifact(RELEASE_FILES.meta, 'meta', 'format: helix-build-meta v1\n', { sbom: false });

const WHEELS = [
  { name: 'cffi', version: '2.1.1', file: 'cffi-2.1.1-cp311-cp311-manylinux_2_17_x86_64.whl', sha256: sha256Hex('cffi wheel') },
  { name: 'cryptography', version: '50.0.2', file: 'cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl', sha256: sha256Hex('cryptography wheel') },
];
const LOCK_DATA = {
  app: 'helix-studio',
  lockfiles: [
    { path: 'apps/studio/requirements.txt', sha256: sha256Hex('requirements') },
    { path: 'apps/studio/pyproject.toml', sha256: sha256Hex('pyproject') },
    { path: 'apps/studio/uv.lock', sha256: sha256Hex('uv.lock') },
  ],
  packages: [
    { name: 'cffi', version: '2.1.1', marker: '', hashes: [sha256Hex('cffi wheel'), sha256Hex('cffi sdist')] },
    { name: 'cryptography', version: '50.0.2', marker: '', hashes: [sha256Hex('cryptography wheel')] },
    // Locked for another platform: no wheel was installed, so the locked hashes are recorded.
    { name: 'pycparser', version: '3.12', marker: "implementation_name != 'PyPy'", hashes: [sha256Hex('pycparser wheel')] },
  ],
};

const RECORDS: Omit<StageRecord, 'schema'>[] = [
  { project: 'helix-studio', stage: 'lock', artifacts: [], data: LOCK_DATA },
  { project: 'helix-studio', stage: 'package', artifacts: [strip(INSTALLER)], data: { python: '3.11.7', pyinstaller: '6.11.1', wheels: WHEELS, executable: 'helix-studio-1.4.0-linux-x86_64/helix-studio' } },
  { project: 'plugin-hello', stage: 'plugin-zip', artifacts: [strip(PLUGIN)] },
  { project: 'release', stage: 'license-report', artifacts: [strip(LICENSES)], data: { executor: '@acme/license:report' } },
  { project: 'release', stage: 'conformance', artifacts: [strip(RESULTS), strip(CONF_LOG)] },
  { project: 'release', stage: 'sbom', artifacts: [strip(CDX_INSTALLER), strip(SBOM_INSTALLER), strip(SBOM_PLUGIN)], data: { syft: '1.57.1' } },
  { project: 'release', stage: 'checksums', artifacts: [strip(SUMS)] },
  { project: 'release', stage: 'build-meta', artifacts: [strip(META)] },
];
const REFS = ['helix-studio/lock', 'helix-studio/package', 'plugin-hello/plugin-zip', 'release/license-report', 'release/conformance', 'release/sbom', 'release/checksums', 'release/build-meta'];
const TARGETS = ['lock', 'package', 'plugin-zip', 'license-report', 'conformance', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign'];

const GITHUB_ENV: NodeJS.ProcessEnv = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/helix',
  GITHUB_WORKFLOW_REF: 'acme/helix/.github/workflows/release.yml@refs/tags/v1.4.0',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_REF: 'refs/tags/v1.4.0',
  HELIX_BUILD_STARTED_ON: '2023-11-14T22:30:00Z',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Release Test', '-c', 'user.email=release@example.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: `@${COMMIT_TIME} +0000`, GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0000` },
  }).trim();
}

/**
 * The statement with what depends on this machine or on the repository's
 * current toolchain pins replaced by placeholders, after checking each one.
 */
function machineIndependent(statement: ProvenanceStatement, head: string): string {
  const copy = JSON.parse(stableJson(statement)) as ProvenanceStatement;
  const build = copy.predicate.buildDefinition;
  expect(build.externalParameters.source.digest).toEqual({ gitCommit: head });
  build.externalParameters.source.digest = { gitCommit: '<HEAD of the temp repo>' };
  expect(build.internalParameters.platform).toBe(platformTag());
  build.internalParameters.platform = '<platformTag()>';
  // The source is also the first resolved dependency.
  expect(build.resolvedDependencies[0]!.digest).toEqual({ gitCommit: head });
  build.resolvedDependencies[0]!.digest = { gitCommit: '<HEAD of the temp repo>' };
  for (const dep of build.resolvedDependencies) {
    if (dep.uri?.startsWith('pkg:generic/node@')) {
      expect(dep.uri).toBe(`pkg:generic/node@${process.versions.node}`);
      expect(dep.annotations?.['zlib']).toBe(process.versions.zlib);
      dep.uri = 'pkg:generic/node@<process.versions.node>';
      dep.annotations = { ...dep.annotations, zlib: '<process.versions.zlib>' };
    }
    if (dep.uri?.startsWith('pkg:pypi/uv@')) {
      expect(dep.uri).toBe(`pkg:pypi/uv@${pinnedToolVersion(REPO_ROOT, 'uv')}`);
      dep.uri = 'pkg:pypi/uv@<pinned in tools/toolchain/requirements-tools.txt>';
    }
    if (dep.uri === 'file:tools/toolchain/pins.json') {
      expect(dep.digest).toEqual({ sha256: sha256Hex(readFileSync(join(REPO_ROOT, 'tools/toolchain/pins.json'))) });
      dep.digest = { sha256: '<sha256 of tools/toolchain/pins.json>' };
    }
  }
  const text = stableJson(copy);
  expect(text).not.toContain(head);
  return text;
}

describe('buildStatement', () => {
  let ws: string;
  let head: string;
  let records: ReleaseRecords;
  const config = resolveConfig({
    apps: { root: 'apps' },
    plugins: { root: 'plugins' },
    stages: [{ name: 'license-report', executor: '@acme/license:report', after: 'build', outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }] }],
  });

  const context = (env: NodeJS.ProcessEnv): StageContext => ({
    stage: 'provenance',
    project: 'release',
    workspaceRoot: ws,
    projectRoot: ws,
    config,
    releaseDir: join(ws, config.releaseDir),
    workDir: join(ws, 'dist', 'work', 'release', 'provenance'),
    sourceDateEpoch: { seconds: COMMIT_TIME, origin: 'git' },
    variant: 'build',
    env,
    logger: memoryLogger(),
  });

  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), 'helix-provenance-'));
    await mkdir(join(ws, 'tools', 'toolchain'), { recursive: true });
    for (const f of ['pins.json', 'requirements-tools.txt']) await copyFile(join(REPO_ROOT, 'tools', 'toolchain', f), join(ws, 'tools', 'toolchain', f));
    await writeFile(join(ws, '.gitignore'), 'dist/\n.helix/\n');
    await writeFile(join(ws, 'README.md'), 'provenance fixture\n');
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'fixture');
    git(ws, 'remote', 'add', 'origin', 'https://release-bot:s3cr3t-token@git.example.org/acme/helix.git');
    head = git(ws, 'rev-parse', 'HEAD');
    for (const r of RECORDS) await writeStageRecord(ws, r);
    records = await ReleaseRecords.read(ws, REFS);
    // The SBOMs are read for the OS packages the installers bundle.
    for (const a of [SBOM_INSTALLER, SBOM_PLUGIN, CDX_INSTALLER]) {
      await mkdir(join(ws, config.releaseDir), { recursive: true });
      await writeFile(join(ws, config.releaseDir, a.path), a.content);
    }
  });
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
  });

  it('has exactly the SHA256SUMS.txt lines as subjects, in their order', async () => {
    const statement = await buildStatement(context({}), records, TARGETS, SUMS_TEXT);
    expect(statement.subject.map((s) => ({ path: s.name, sha256: s.digest.sha256 }))).toEqual(parseSums(SUMS_TEXT, RELEASE_FILES.sums));
    expect(statement.subject).toHaveLength(SUMMED.length);
  });

  it('annotates each subject with its kind and, for installers and plugins, their own version and SBOMs (SPDX, CycloneDX)', async () => {
    const statement = await buildStatement(context({}), records, TARGETS, SUMS_TEXT);
    expect(Object.fromEntries(statement.subject.map((s) => [s.name, s.annotations]))).toEqual({
      [INSTALLER.path]: { 'helix.kind': 'installer', 'helix.version': INSTALLER.version, 'helix.sbom': SBOM_INSTALLER.path, 'helix.cyclonedx': CDX_INSTALLER.path },
      [PLUGIN.path]: { 'helix.kind': 'plugin', 'helix.version': PLUGIN.version, 'helix.sbom': SBOM_PLUGIN.path },
      [LICENSES.path]: { 'helix.kind': 'custom' },
      [RESULTS.path]: { 'helix.kind': 'conformance' },
      [CONF_LOG.path]: { 'helix.kind': 'conformance' },
      [SBOM_INSTALLER.path]: { 'helix.kind': 'sbom' },
      [CDX_INSTALLER.path]: { 'helix.kind': 'sbom' },
      [SBOM_PLUGIN.path]: { 'helix.kind': 'sbom' },
    });
  });

  it('names the source by the temp repo\'s HEAD and its credential-free remote', async () => {
    const statement = await buildStatement(context({}), records, TARGETS, SUMS_TEXT);
    const params = statement.predicate.buildDefinition.externalParameters;
    expect(params.source).toEqual({ uri: 'git+https://git.example.org/acme/helix.git@refs/heads/main', digest: { gitCommit: head } });
    expect(JSON.stringify(statement)).not.toContain('s3cr3t');
    expect(statement.predicate.buildDefinition.internalParameters).toEqual({ sourceDateEpoch: COMMIT_TIME, sourceDateEpochFrom: 'git', platform: platformTag(), imported: false, dirty: false });
    expect(params.releaseConfig).toEqual({ name: 'release.config.ts', digest: { sha256: config.digest } });
  });

  it('lists lockfiles, locked packages (installed wheel or locked hashes) and the toolchain', async () => {
    const deps = (await buildStatement(context({}), records, TARGETS, SUMS_TEXT)).predicate.buildDefinition.resolvedDependencies;
    expect(deps.filter((d) => d.annotations?.['kind'] === 'lockfile').map((d) => [d.name, d.digest?.['sha256']])).toEqual(LOCK_DATA.lockfiles.map((l) => [l.path, l.sha256]));
    // The OS package the installer's SBOM names (the plugin's SBOM names none).
    expect(deps.filter((d) => d.annotations?.['kind'] === 'bundled-os-package')).toEqual([{ uri: LIBSSL, annotations: { kind: 'bundled-os-package', bundledBy: INSTALLER.path } }]);
    expect(deps.filter((d) => d.annotations?.['kind'] === 'locked-package')).toEqual([
      { uri: 'pkg:pypi/cffi@2.1.1', name: WHEELS[0]!.file, digest: { sha256: WHEELS[0]!.sha256 }, annotations: { kind: 'locked-package', app: 'helix-studio' } },
      { uri: 'pkg:pypi/cryptography@50.0.2', name: WHEELS[1]!.file, digest: { sha256: WHEELS[1]!.sha256 }, annotations: { kind: 'locked-package', app: 'helix-studio' } },
      { uri: 'pkg:pypi/pycparser@3.12', annotations: { kind: 'locked-package', app: 'helix-studio', lockedSha256: LOCK_DATA.packages[2]!.hashes } },
    ]);
    expect(deps.filter((d) => String(d.annotations?.['kind']).startsWith('toolchain')).map((d) => d.uri)).toEqual([
      'pkg:generic/python@3.11.7',
      'pkg:pypi/pyinstaller@6.11.1',
      `pkg:pypi/uv@${pinnedToolVersion(REPO_ROOT, 'uv')}`,
      'pkg:golang/github.com/anchore/syft@v1.57.1',
      `pkg:generic/node@${process.versions.node}`,
      'file:tools/toolchain/pins.json',
    ]);
  });

  it('records the local builder without invocation or start time', async () => {
    const { runDetails } = (await buildStatement(context({}), records, TARGETS, SUMS_TEXT)).predicate;
    expect(runDetails.builder).toEqual({ id: 'https://helix-release.invalid/builders/local/v1' });
    expect(runDetails.metadata).toEqual({});
    expect(runDetails.byproducts).toEqual([
      { name: META.path, digest: { sha256: META.sha256 } },
      { name: RESULTS.path, digest: { sha256: RESULTS.sha256 } },
      { name: CONF_LOG.path, digest: { sha256: CONF_LOG.sha256 } },
    ]);
  });

  it('records the GitHub Actions builder, run and source from GITHUB_*', async () => {
    const statement = await buildStatement(context(GITHUB_ENV), records, TARGETS, SUMS_TEXT);
    expect(statement.predicate.runDetails.builder).toEqual({ id: 'https://github.com/acme/helix/.github/workflows/release.yml@refs/tags/v1.4.0' });
    expect(statement.predicate.runDetails.metadata).toEqual({ invocationId: 'https://github.com/acme/helix/actions/runs/4242/attempts/2', startedOn: '2023-11-14T22:30:00Z' });
    expect(statement.predicate.buildDefinition.externalParameters.source).toEqual({ uri: 'git+https://github.com/acme/helix@refs/tags/v1.4.0', digest: { gitCommit: head } });
    // Only the run details and the source differ from a local build.
    const local = await buildStatement(context({}), records, TARGETS, SUMS_TEXT);
    expect(statement.subject).toEqual(local.subject);
    expect(statement.predicate.buildDefinition.resolvedDependencies.slice(1)).toEqual(local.predicate.buildDefinition.resolvedDependencies.slice(1));
  });

  it('gives identical JSON on every call, matching testdata/statement.golden.json', async () => {
    const one = stableJson(await buildStatement(context({}), records, TARGETS, SUMS_TEXT));
    const two = stableJson(await buildStatement(context({}), records, TARGETS, SUMS_TEXT));
    expect(two).toBe(one);
    const statement = JSON.parse(one) as ProvenanceStatement;
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(statement.predicate.buildDefinition.buildType).toBe(BUILD_TYPE);
    expectGolden(machineIndependent(statement, head), GOLDEN);
  });

  it('marks a dirty tree and names the tag at HEAD', async () => {
    await writeFile(join(ws, 'untracked.txt'), 'x');
    git(ws, 'tag', 'v1.4.0');
    try {
      const statement = await buildStatement(context({}), records, TARGETS, SUMS_TEXT);
      expect(statement.predicate.buildDefinition.internalParameters.dirty).toBe(true);
      expect(statement.predicate.buildDefinition.externalParameters.tag).toBe('v1.4.0');
      expect(statement.predicate.buildDefinition.externalParameters.source.uri).toBe('git+https://git.example.org/acme/helix.git@refs/tags/v1.4.0');
    } finally {
      await rm(join(ws, 'untracked.txt'));
      git(ws, 'tag', '-d', 'v1.4.0');
    }
  });

  it('provenanceStage writes the same statement to the release folder and records it', async () => {
    const releaseDir = join(ws, config.releaseDir);
    for (const a of [...SUMMED, SUMS, META]) {
      await mkdir(join(releaseDir, a.path, '..'), { recursive: true });
      await writeFile(join(releaseDir, a.path), a.content);
    }
    const ctx = context({});
    const written = await provenanceStage(ctx, await ReleaseRecords.read(ws, REFS), TARGETS);
    const text = await readFile(join(releaseDir, RELEASE_FILES.provenance), 'utf8');
    expect(text).toBe(stableJson(await buildStatement(ctx, records, TARGETS, SUMS_TEXT)));
    expect(written).toEqual({ path: RELEASE_FILES.provenance, kind: 'provenance', sha256: sha256Hex(text), size: Buffer.byteLength(text), sbom: false });
    expect((await ReleaseRecords.read(ws, ['release/provenance'])).all[0]!.artifacts).toEqual([written]);
  });
});

describe('osPackagePurls', () => {
  it('takes the deb, rpm and apk purls of an SPDX document, once each and sorted, and nothing else', () => {
    const purl = (p: string) => ({ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p });
    const doc = {
      packages: [
        { externalRefs: [purl('pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64'), { referenceType: 'cpe23Type', referenceLocator: 'cpe:2.3:a:openssl:openssl:3.0.19:*:*:*:*:*:*:*' }] },
        { externalRefs: [purl('pkg:pypi/cffi@2.1.1')] },
        { externalRefs: [purl('pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64'), purl('pkg:apk/alpine/zlib@1.3.1-r2')] },
        { externalRefs: [purl('pkg:rpm/fedora/bzip2-libs@1.0.8-19.fc41'), purl('pkg:deb/debian/no-version')] },
        {},
      ],
    };
    expect(osPackagePurls(doc)).toEqual(['pkg:apk/alpine/zlib@1.3.1-r2', 'pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64', 'pkg:rpm/fedora/bzip2-libs@1.0.8-19.fc41']);
    expect(osPackagePurls(null)).toEqual([]);
    expect(osPackagePurls({})).toEqual([]);
  });
});
