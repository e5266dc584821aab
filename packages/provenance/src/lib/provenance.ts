/**
 * Stage `provenance`: binds source commit → builder → artifacts.
 *
 * - subjects: exactly the entries of SHA256SUMS.txt, read back from the file;
 * - resolvedDependencies: the source (`git+<remote>@<ref>` with gitCommit),
 *   every lockfile with its sha256, every locked Python package as
 *   `pkg:pypi/<name>@<version>` with the sha256 of the wheel that was
 *   installed, and the toolchain;
 * - builder id local or CI (from the CI environment), invocation id and start
 *   time only when CI supplies them: a local build of one commit gives the
 *   same bytes every time.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  builderIdentity,
  describeReleaseFile,
  platformTag,
  readGitState,
  helixFile,
  releaseVersionOf,
  PINS_FILE,
  readPins,
  recordData,
  releaseToolVersions,
  sha256File,
  stableJson,
  writeFileAtomic,
  writeStageRecord,
  type BuildHost,
  type GitState,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { BUILD_TYPE, RELEASE_FILES, SBOM_ANNOTATIONS, SBOM_FORMATS, SLSA_PROVENANCE_V1, STATEMENT_TYPE, parseSums, sbomFormatOf, type ProvenanceStatement, type ResourceDescriptor } from '@helix-release/format';

/** `git+<remote>@<ref>`, with any credentials stripped from the remote URL. */
export function sourceUri(git: GitState, env: NodeJS.ProcessEnv): string | undefined {
  let remote = git.remote;
  if (env['GITHUB_ACTIONS'] === 'true' && env['GITHUB_REPOSITORY']) remote = `${env['GITHUB_SERVER_URL'] ?? 'https://github.com'}/${env['GITHUB_REPOSITORY']}`;
  if (!remote) return undefined;
  // Credentials never reach the statement: drop everything up to the last
  // '@' of the authority (a password may itself hold '@').
  const clean = remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1');
  const ref = (env['GITHUB_ACTIONS'] === 'true' && env['GITHUB_REF']) || (git.tag ? `refs/tags/${git.tag}` : git.ref);
  return `git+${clean}${ref ? `@${ref}` : ''}`;
}

/** The lock reports of the apps whose installers the release holds (RECORD_MISSING when the plan lacks one). */
function lockReports(records: ReleaseRecords) {
  const apps = [...new Set(records.artifacts.filter((a) => a.kind === 'installer' && a.name).map((a) => a.name!))].sort();
  return apps.map((app) => recordData(records.get('lock', app)));
}

/** The build hosts the package records name, once each (older records name none). */
function distinctHosts(records: ReleaseRecords): BuildHost[] {
  const seen = new Map<string, BuildHost>();
  for (const r of records.of('package')) if (r.data?.host) seen.set(stableJson(r.data.host), r.data.host);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, h]) => h);
}

/** Package-manager purls of OS packages (pkg:deb, pkg:rpm, pkg:apk) in an SPDX document's packages. */
export function osPackagePurls(doc: unknown): string[] {
  const packages = (doc as { packages?: { externalRefs?: { referenceType?: string; referenceLocator?: string }[] }[] } | null)?.packages ?? [];
  const out = new Set<string>();
  for (const p of packages) {
    for (const r of p.externalRefs ?? []) {
      if (r.referenceType === 'purl' && typeof r.referenceLocator === 'string' && /^pkg:(deb|rpm|apk)\/[^@]+@/.test(r.referenceLocator)) out.add(r.referenceLocator);
    }
  }
  return [...out].sort();
}

/**
 * The OS packages whose files the installers bundle (their SPDX SBOMs name
 * them, found in the OS's package database by the libraries' bytes), as
 * dependencies a rebuilder must match: another libssl3 gives another installer.
 */
async function bundledOsPackages(releaseDir: string, subjects: readonly { name: string; annotations: Record<string, string | undefined> }[]): Promise<ResourceDescriptor[]> {
  const bundledBy = new Map<string, string[]>();
  for (const s of subjects) {
    const sbom = s.annotations['helix.kind'] === 'installer' ? s.annotations[SBOM_ANNOTATIONS.spdx] : undefined;
    if (!sbom) continue;
    const doc: unknown = JSON.parse(await readFile(join(releaseDir, sbom), 'utf8'));
    for (const purl of osPackagePurls(doc)) bundledBy.set(purl, [...(bundledBy.get(purl) ?? []), s.name]);
  }
  return [...bundledBy.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([uri, by]) => ({ uri, annotations: { kind: 'bundled-os-package', bundledBy: by.sort().join(', ') } }));
}

/** Builds the statement (without writing it). */
export async function buildStatement(ctx: StageContext, records: ReleaseRecords, targets: readonly string[], sumsText: string): Promise<ProvenanceStatement> {
  // Subjects are exactly SHA256SUMS.txt's lines; annotations say what each
  // file is and which SBOM describes it, so verifiers need no other index.
  const byPath = new Map(records.artifacts.map((a) => [a.path, a]));
  // Each artifact's SBOMs by format: `helix.sbom` names the SPDX one, `helix.cyclonedx` the CycloneDX one.
  const sbomOf = new Map<string, string>();
  for (const a of records.of('sbom').flatMap((r) => r.artifacts)) {
    const format = sbomFormatOf(a.path.split('/').pop()!);
    if (format) sbomOf.set(`${format}\u0000${a.name ?? ''}`, a.path);
  }
  const subjects = parseSums(sumsText, RELEASE_FILES.sums).map((l) => {
    const artifact = byPath.get(l.path);
    const kind = artifact?.kind ?? 'custom';
    const sboms: Record<string, string> = {};
    for (const format of SBOM_FORMATS) {
      const sbom = sbomOf.get(`${format}\u0000${l.path}`);
      if (sbom) sboms[SBOM_ANNOTATIONS[format]] = sbom;
    }
    // An installer's or plugin's own version: the release's version is in externalParameters.
    const version = (kind === 'installer' || kind === 'plugin') && artifact?.version ? { 'helix.version': artifact.version } : {};
    return { name: l.path, digest: { sha256: l.sha256 }, annotations: { 'helix.kind': kind, ...version, ...sboms } };
  });
  const git = await readGitState(ctx.workspaceRoot);
  const builder = builderIdentity(ctx.env);
  const installedWheels = new Map(records.of('package').flatMap((r) => r.data?.wheels ?? []).map((w) => [`${w.name}@${w.version}`, w]));
  const uri = sourceUri(git, ctx.env);
  const source: ResourceDescriptor = { ...(uri ? { uri } : { name: 'source' }), digest: { gitCommit: git.commit || 'unknown' } };

  const deps: ResourceDescriptor[] = [source];
  for (const data of lockReports(records)) {
    for (const file of data.lockfiles) deps.push({ name: file.path, uri: `file:${file.path}`, digest: { sha256: file.sha256 }, annotations: { kind: 'lockfile', app: data.app } });
    for (const pkg of data.packages) {
      const wheel = installedWheels.get(`${pkg.name}@${pkg.version}`);
      deps.push({
        uri: `pkg:pypi/${pkg.name}@${pkg.version}`,
        ...(wheel ? { name: wheel.file, digest: { sha256: wheel.sha256 } } : {}),
        annotations: { kind: 'locked-package', app: data.app, ...(wheel ? {} : { lockedSha256: pkg.hashes }) },
      });
    }
  }
  const pins = readPins(ctx.workspaceRoot);
  const tools = await releaseToolVersions(ctx.workspaceRoot, ctx.config.python, records);
  const pinned = tools.fromPins ? { builtElsewhere: true } : {};
  // What a rebuilder must match (docs/provenance-build-type.md): the base
  // interpreter and libpython the installers bundle, the bootloader, the OS.
  const hosts = distinctHosts(records);
  const pythonOf = (v: string): { digest?: { sha256: string }; libpython?: string } => {
    const same = hosts.filter((h) => h.python.version === v);
    const one = same.length === 1 ? same[0]! : undefined;
    if (!one) return {};
    return { digest: { sha256: one.python.sha256 }, ...(one.python.libpython ? { libpython: `${one.python.libpython.name} sha256:${one.python.libpython.sha256}` } : {}) };
  };
  deps.push(
    ...tools.python.map((v) => {
      const { digest, ...lib } = pythonOf(v);
      return { uri: `pkg:generic/python@${v}`, ...(digest ? { digest } : {}), annotations: { kind: 'toolchain', ...lib, ...pinned } };
    }),
    ...tools.pyinstaller.map((v) => {
      const boot = [...new Set(hosts.map((h) => `${h.bootloader.platform} sha256:${h.bootloader.sha256}`))];
      return { uri: `pkg:pypi/pyinstaller@${v}`, annotations: { kind: 'toolchain', ...(tools.pyinstaller.length === 1 && boot.length === 1 ? { bootloader: boot[0]! } : {}), ...pinned } };
    }),
    ...[...new Map(hosts.map((h) => [`${h.os.id}@${h.os.version}`, h.os])).values()].map((os) => ({
      uri: `pkg:generic/${encodeURIComponent(os.id)}@${encodeURIComponent(os.version)}`,
      annotations: { kind: 'build-host-os' },
    })),
    { uri: `pkg:pypi/uv@${tools.uv}`, annotations: { kind: 'toolchain' } },
    {
      uri: `pkg:golang/${pins.syft.module.replace(/\/cmd\/syft$/, '')}@v${tools.syft}`,
      // The binary that ran (a build of the pinned module, checked by resolveSyft), and the module sum it names.
      ...(tools.syftSha256 ? { digest: { sha256: tools.syftSha256 } } : {}),
      annotations: { kind: 'toolchain', tool: 'syft', ...(pins.syft.sum ? { moduleSum: pins.syft.sum } : {}) },
    },
    { uri: `pkg:generic/node@${tools.node}`, annotations: { kind: 'toolchain', zlib: tools.zlib } },
    { uri: `file:${PINS_FILE}`, digest: { sha256: await sha256File(helixFile(PINS_FILE)) }, annotations: { kind: 'toolchain-pins' } },
  );

  deps.push(...(await bundledOsPackages(ctx.releaseDir, subjects)));

  const byproducts: ResourceDescriptor[] = [];
  const meta = records.of('build-meta')[0]?.artifacts[0];
  if (meta) byproducts.push({ name: meta.path, digest: { sha256: meta.sha256 } });
  for (const a of records.of('conformance').flatMap((r) => r.artifacts)) {
    if (a.kind === 'conformance') byproducts.push({ name: a.path, digest: { sha256: a.sha256 } });
  }
  const version = releaseVersionOf(ctx.config, records.artifacts);
  return {
    _type: STATEMENT_TYPE,
    subject: subjects,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          version,
          ...(git.tag ? { tag: git.tag } : {}),
          // The targets of the plan variant that ran (an import plan does not package).
          targets: [...targets],
          releaseConfig: { name: ctx.config.file, digest: { sha256: ctx.config.digest } },
          source,
        },
        internalParameters: {
          sourceDateEpoch: ctx.sourceDateEpoch.seconds,
          sourceDateEpochFrom: ctx.sourceDateEpoch.origin,
          platform: platformTag(),
          imported: ctx.variant === 'import',
          dirty: git.dirty,
        },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: builder.id },
        metadata: {
          ...(builder.invocationId ? { invocationId: builder.invocationId } : {}),
          ...(builder.startedOn ? { startedOn: builder.startedOn } : {}),
        },
        byproducts,
      },
    },
  };
}

/** Runs the stage with the targets of the plan variant that runs. */
export async function provenanceStage(ctx: StageContext, records: ReleaseRecords, targets: readonly string[]): Promise<ReleaseArtifact> {
  const out = join(ctx.releaseDir, RELEASE_FILES.provenance);
  await rm(out, { force: true });
  await records.checked(ctx.releaseDir, { hash: false });
  const sumsText = await readFile(join(ctx.releaseDir, RELEASE_FILES.sums), 'utf8');
  const statement = await buildStatement(ctx, records, targets, sumsText);
  await writeFileAtomic(out, stableJson(statement));
  const artifact = await describeReleaseFile(ctx.releaseDir, RELEASE_FILES.provenance, 'provenance');
  await writeStageRecord(ctx.workspaceRoot, { stage: 'provenance', project: ctx.project, artifacts: [artifact] });
  ctx.logger.info(`${RELEASE_FILES.provenance}: ${statement.subject.length} subjects, source ${statement.predicate.buildDefinition.externalParameters.source.digest?.['gitCommit']}, builder ${statement.predicate.runDetails.builder.id}`);
  return artifact;
}
