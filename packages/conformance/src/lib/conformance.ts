/**
 * Conformance, in two stages:
 *
 * - `app-conformance` (per app, cached per app): unpacks the app's installer,
 *   gathers the plugins, and runs the merged pack with tools/conformance.sh,
 *   the same script an end user runs after install. It records the outcome,
 *   failed cases included, in its stage record.
 * - `conformance` (release-level): takes over each app's run when it tested
 *   exactly this release's installer, plugins and pack (and runs the pack
 *   itself for an installer no app run covers: imported artifacts, a custom
 *   stage's), then writes conformance-results.json and conformance.log
 *   (release files: summed, signed, listed as provenance byproducts); a
 *   failing case fails the release with the case named.
 *
 * It also ships the verification kit, so that the published folder holds
 * everything the offline flow needs: tools/conformance.sh,
 * tools/verify_release_signatures.py, tools/verify_release_provenance.py and
 * the pack as conformance-pack/.
 */
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  describeReleaseFile,
  appEnv,
  extractZipSafely,
  helixFile,
  listFiles,
  platformTag,
  runTool,
  sha256File,
  sha256Hex,
  stableJson,
  writeFileAtomic,
  writeStageRecord,
  type AppConformanceRecordData,
  type ReleaseArtifact,
  type TestedFile,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { KIT_TOOLS, PACK_DIR, RELEASE_FILES, STATEMENT_TYPE, TEST_RESULT_V01, TRUST_STORE_FILE, type ConformanceResults } from '@helix-release/format';
import { ConformanceError } from './errors';
import { assemblePack, packSources, type PackSource } from './pack';
import { RUNNER, parseConformanceOutput } from './results';

/** Copies the kit, the merged pack (see pack.ts) and the trust store into the release; returns their records. */
async function shipKit(ctx: StageContext, sources: readonly PackSource[]): Promise<ReleaseArtifact[]> {
  const out: ReleaseArtifact[] = [];
  if (ctx.config.trustStore) {
    await copyFile(join(ctx.workspaceRoot, ctx.config.trustStore), join(ctx.releaseDir, TRUST_STORE_FILE));
    await chmod(join(ctx.releaseDir, TRUST_STORE_FILE), 0o644);
    out.push(await describeReleaseFile(ctx.releaseDir, TRUST_STORE_FILE, 'tool'));
  }
  for (const tool of KIT_TOOLS) {
    const source = helixFile(tool);
    const target = join(ctx.releaseDir, tool);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    await chmod(target, 0o755);
    out.push(await describeReleaseFile(ctx.releaseDir, tool, 'tool'));
  }
  for (const rel of await assemblePack(ctx.workspaceRoot, sources, join(ctx.releaseDir, PACK_DIR))) {
    out.push(await describeReleaseFile(ctx.releaseDir, `${PACK_DIR}/${rel}`, 'tool'));
  }
  return out;
}

/** A digest of a folder: sha256 of its `sha256sum`-style listing. */
async function treeDigest(dir: string): Promise<string> {
  const lines = await Promise.all((await listFiles(dir)).map(async (rel) => `${await sha256File(join(dir, rel))}  ${rel}\n`));
  return sha256Hex(lines.join(''));
}

/** What one run of the pack against one installer gave. */
interface PackRun {
  passed: string[];
  failed: string[];
  why: Record<string, string>;
  log: string;
}

/** The executable of an installer: its package record names it; imported, the zip's top folder holds <app>. */
function executableOf(installer: ReleaseArtifact, records: ReleaseRecords): string {
  const built = records.of('package').find((r) => r.artifacts.some((a) => a.path === installer.path));
  return built?.data?.executable ?? `${installer.path.replace(/\.zip$/, '')}/${installer.name}`;
}

/**
 * Unpacks `installer` into `workDir` and runs the pack in `pack` against it
 * with the plugin zips in `pluginsDir`; CONFORMANCE_OUTPUT when the runner
 * prints no usable result. Failed cases are part of the result, not an error.
 */
async function runPack(ctx: StageContext, args: { installer: ReleaseArtifact; executable: string; pack: string; pluginsDir: string; workDir: string; label: string }): Promise<PackRun> {
  const { installer } = args;
  // The zip holds one top folder, <artifact name without .zip>/.
  const unpacked = join(args.workDir, 'install');
  await rm(unpacked, { recursive: true, force: true });
  await extractZipSafely(join(ctx.releaseDir, installer.path), unpacked, { allowSymlinks: true });
  const caseLog = join(args.workDir, `${installer.name}.log`);
  ctx.logger.info(`running ${PACK_DIR} (${args.label}) against ${installer.path}`);
  const run = await runTool({
    command: 'bash',
    args: [helixFile(RUNNER), '--app', join(unpacked, args.executable), '--plugins', args.pluginsDir, '--pack', args.pack, '--log', caseLog],
    env: { ...appEnv(ctx.config, installer.name ?? ''), TZ: 'UTC', LC_ALL: 'C.UTF-8', TMPDIR: args.workDir },
    okExitCodes: [0, 1],
    timeoutMs: 10 * 60_000,
  });
  const parsed = parseConformanceOutput(run.stdout);
  if (!parsed.summary || parsed.summary.passed + parsed.summary.failed !== parsed.cases.length || parsed.cases.length === 0) {
    throw new ConformanceError('CONFORMANCE_OUTPUT', `conformance.sh printed no usable result (exit ${run.exitCode}):\n${run.stdout}${run.stderr}`, { file: RUNNER });
  }
  const out: PackRun = { passed: [], failed: [], why: {}, log: await readFile(caseLog, 'utf8') };
  for (const c of parsed.cases) {
    (c.passed ? out.passed : out.failed).push(c.name);
    if (!c.passed) out.why[c.name] = c.why ?? '';
  }
  return out;
}

/** Copies the plugin zips into `dir` (flat, by file name), emptying it first. */
async function gatherPlugins(ctx: StageContext, plugins: readonly ReleaseArtifact[], dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const plugin of plugins) await copyFile(join(ctx.releaseDir, plugin.path), join(dir, plugin.path.split('/').pop()!));
}

const tested = (a: ReleaseArtifact): TestedFile => ({ path: a.path, sha256: a.sha256 });

/**
 * Stage `app-conformance`: one app's installer against the merged pack and
 * the plugins, recorded (failed cases too) for the release's conformance
 * stage. Nothing is written into the release folder.
 */
export async function appConformanceStage(ctx: StageContext, records: ReleaseRecords): Promise<AppConformanceRecordData> {
  const record = async (data: AppConformanceRecordData) => {
    await writeStageRecord(ctx.workspaceRoot, { stage: 'app-conformance', project: ctx.project, artifacts: [], data });
    return data;
  };
  const sources = packSources(ctx.config);
  if (sources.length === 0) return record({ ran: false, why: 'no conformance pack is configured' });
  const artifacts = await records.checked(ctx.releaseDir, { hash: true });
  const platform = platformTag();
  const installer = artifacts.find((a) => a.kind === 'installer' && a.name === ctx.project);
  if (!installer || installer.platform !== platform) return record({ ran: false, why: `no ${platform} installer of ${ctx.project}` });
  const plugins = artifacts.filter((a) => a.kind === 'plugin');

  await rm(ctx.workDir, { recursive: true, force: true });
  const pack = join(ctx.workDir, PACK_DIR);
  await assemblePack(ctx.workspaceRoot, sources, pack);
  const pluginsDir = join(ctx.workDir, 'plugins');
  await gatherPlugins(ctx, plugins, pluginsDir);
  const run = await runPack(ctx, { installer, executable: executableOf(installer, records), pack, pluginsDir, workDir: ctx.workDir, label: `${sources.map((s) => s.dir).join(' + ')}, ${plugins.length} plugins` });
  for (const name of run.failed) ctx.logger.error(`case ${name} failed: ${run.why[name]}`);
  ctx.logger.info(`${installer.path}: ${run.passed.length} passed, ${run.failed.length} failed${run.failed.length ? ' (release:conformance fails the release on them)' : ''}`);
  return record({ ran: true, installer: tested(installer), plugins: plugins.map(tested), pack: await treeDigest(pack), runner: await sha256File(helixFile(RUNNER)), ...run });
}

/** True when an app's recorded run tested exactly these bytes with this pack and runner. */
function coversRun(data: AppConformanceRecordData | undefined, installer: ReleaseArtifact, plugins: readonly ReleaseArtifact[], pack: string, runner: string): data is Extract<AppConformanceRecordData, { ran: true }> {
  if (!data?.ran) return false;
  const same = (a: readonly TestedFile[], b: readonly TestedFile[]) => a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.sha256 === b[i]!.sha256);
  return data.installer.path === installer.path && data.installer.sha256 === installer.sha256 && same(data.plugins, plugins.map(tested)) && data.pack === pack && data.runner === runner;
}

/** Runs the release-level stage: takes over the apps' runs (or runs the pack), writes the results and log. */
export async function conformanceStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const resultsPath = join(ctx.releaseDir, RELEASE_FILES.conformanceResults);
  const logPath = join(ctx.releaseDir, RELEASE_FILES.conformanceLog);
  for (const p of [resultsPath, logPath, join(ctx.releaseDir, 'tools'), join(ctx.releaseDir, PACK_DIR), join(ctx.releaseDir, TRUST_STORE_FILE)]) {
    await rm(p, { recursive: true, force: true });
  }
  const sources = packSources(ctx.config);
  if (sources.length === 0) {
    throw new ConformanceError('CONFORMANCE_NO_PACK', 'release.config.ts has no conformance.pack and no app has its own (apps.settings.<app>.conformance); a release is not published without its conformance results', { file: ctx.config.file });
  }
  // The merged pack, as it ships: what runs (or ran, per app) is what an end user reruns.
  const pack = join(ctx.releaseDir, PACK_DIR);
  const artifacts = await records.checked(ctx.releaseDir, { hash: true });
  const platform = platformTag();
  const installers = artifacts.filter((a) => a.kind === 'installer' && a.platform === platform);
  const plugins = artifacts.filter((a) => a.kind === 'plugin');
  const kit = await shipKit(ctx, sources);

  if (installers.length === 0) {
    ctx.logger.notice(`NO CONFORMANCE RUN: the release has no ${platform} installer to test on this machine.\nIt ships without conformance results; \`helix-release verify\` reports that.`);
    await writeStageRecord(ctx.workspaceRoot, { stage: 'conformance', project: ctx.project, artifacts: kit, data: { ran: false } });
    return kit;
  }

  const packDigest = await treeDigest(pack);
  const runnerDigest = await sha256File(helixFile(RUNNER));
  const appRuns = new Map(records.of('app-conformance').map((r) => [r.project, r.data]));
  await rm(ctx.workDir, { recursive: true, force: true });
  const pluginsDir = join(ctx.workDir, 'plugins');
  let gathered = false;
  const logs: string[] = [];
  const passed: string[] = [];
  const failed: string[] = [];
  for (const [index, installer] of installers.entries()) {
    const appRun = appRuns.get(installer.name ?? '');
    let run: PackRun;
    if (coversRun(appRun, installer, plugins, packDigest, runnerDigest)) {
      run = appRun;
      ctx.logger.info(`${installer.path}: taking over ${installer.name}:app-conformance (${run.passed.length} passed, ${run.failed.length} failed)`);
    } else {
      if (!gathered) await gatherPlugins(ctx, plugins, pluginsDir);
      gathered = true;
      const workDir = join(ctx.workDir, `install-${index}`);
      await mkdir(workDir, { recursive: true });
      run = await runPack(ctx, { installer, executable: executableOf(installer, records), pack, pluginsDir, workDir, label: `${sources.map((s) => s.dir).join(' + ')}, ${plugins.length} plugins` });
    }
    const prefix = installers.length > 1 ? `${installer.name}/` : '';
    for (const name of run.passed) passed.push(`${prefix}${name}`);
    for (const name of run.failed) {
      failed.push(`${prefix}${name}`);
      ctx.logger.error(`case ${prefix}${name} failed: ${run.why[name]}`);
    }
    logs.push(`##### ${installer.path}\n${run.log}`);
  }

  const results: ConformanceResults = {
    _type: STATEMENT_TYPE,
    subject: [...installers, ...plugins].map((a) => ({ name: a.path, digest: { sha256: a.sha256 } })),
    predicateType: TEST_RESULT_V01,
    predicate: {
      result: failed.length ? 'FAILED' : 'PASSED',
      configuration: [
        { name: PACK_DIR, digest: { sha256: packDigest } },
        { name: RUNNER, digest: { sha256: runnerDigest } },
      ],
      passedTests: passed,
      warnedTests: [],
      failedTests: failed,
    },
  };
  await writeFileAtomic(resultsPath, stableJson(results));
  await writeFileAtomic(logPath, logs.join('\n'));
  if (failed.length) {
    throw new ConformanceError('CONFORMANCE_FAILED', `${failed.length} conformance case(s) failed: ${failed.join(', ')}; see ${logPath}`, { file: sources.map((s) => s.dir).join(', ') });
  }
  const outputs = [await describeReleaseFile(ctx.releaseDir, RELEASE_FILES.conformanceResults, 'conformance'), await describeReleaseFile(ctx.releaseDir, RELEASE_FILES.conformanceLog, 'conformance'), ...kit];
  await writeStageRecord(ctx.workspaceRoot, { stage: 'conformance', project: ctx.project, artifacts: outputs, data: { ran: true, passed, failed } });
  ctx.logger.info(`conformance PASSED: ${passed.length} cases`);
  return outputs;
}
