/**
 * Stage `conformance`: unpacks each of this platform's installers, gathers the
 * release's plugins, and runs the canonical pack with tools/conformance.sh,
 * the same script an end user runs after install. It writes
 * conformance-results.json and conformance.log (release files: summed,
 * signed, listed as provenance byproducts); a failing case fails the release
 * with the case named.
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
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { KIT_TOOLS, PACK_DIR, RELEASE_FILES, STATEMENT_TYPE, TEST_RESULT_V01, TRUST_STORE_FILE, type ConformanceResults } from '@helix-release/format';
import { ConformanceError } from './errors';
import { assemblePack, packSources, type PackSource } from './pack';
import { parseConformanceOutput } from './results';

/** The pack runner, as shipped in the release (one of KIT_TOOLS). */
const RUNNER = 'tools/conformance.sh';

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

/** Runs the stage. */
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
  // The merged pack, as it ships: what runs is what an end user reruns.
  const pack = join(ctx.releaseDir, PACK_DIR);
  const artifacts = await records.checked(ctx.releaseDir, { hash: false });
  const platform = platformTag();
  const installers = artifacts.filter((a) => a.kind === 'installer' && a.platform === platform);
  const plugins = artifacts.filter((a) => a.kind === 'plugin');
  const kit = await shipKit(ctx, sources);

  if (installers.length === 0) {
    ctx.logger.notice(`NO CONFORMANCE RUN: the release has no ${platform} installer to test on this machine.\nIt ships without conformance results; \`helix-release verify\` reports that.`);
    await writeStageRecord(ctx.workspaceRoot, { stage: 'conformance', project: ctx.project, artifacts: kit, data: { ran: false } });
    return kit;
  }

  await rm(ctx.workDir, { recursive: true, force: true });
  const pluginsDir = join(ctx.workDir, 'plugins');
  await mkdir(pluginsDir, { recursive: true });
  for (const plugin of plugins) await copyFile(join(ctx.releaseDir, plugin.path), join(pluginsDir, plugin.path.split('/').pop()!));

  const logs: string[] = [];
  const passed: string[] = [];
  const failed: string[] = [];
  for (const [index, installer] of installers.entries()) {
    // The zip holds one top folder, <artifact name without .zip>/.
    const unpacked = join(ctx.workDir, `install-${index}`);
    await extractZipSafely(join(ctx.releaseDir, installer.path), unpacked, { allowSymlinks: true });
    // Built here: the package record names the executable; imported: the zip's top folder holds <app>.
    const built = records.of('package').find((r) => r.artifacts.some((a) => a.path === installer.path));
    const executable = built?.data?.executable ?? `${installer.path.replace(/\.zip$/, '')}/${installer.name}`;
    const app = join(unpacked, executable);
    const caseLog = join(ctx.workDir, `${installer.name}.log`);
    ctx.logger.info(`running ${PACK_DIR} (${sources.map((s) => s.dir).join(' + ')}) against ${installer.path} with ${plugins.length} plugins`);
    const run = await runTool({
      command: 'bash',
      args: [helixFile(RUNNER), '--app', app, '--plugins', pluginsDir, '--pack', pack, '--log', caseLog],
      env: { ...appEnv(ctx.config, installer.name ?? ''), TZ: 'UTC', LC_ALL: 'C.UTF-8', TMPDIR: ctx.workDir },
      okExitCodes: [0, 1],
      timeoutMs: 10 * 60_000,
    });
    const parsed = parseConformanceOutput(run.stdout);
    if (!parsed.summary || parsed.summary.passed + parsed.summary.failed !== parsed.cases.length || parsed.cases.length === 0) {
      throw new ConformanceError('CONFORMANCE_OUTPUT', `conformance.sh printed no usable result (exit ${run.exitCode}):\n${run.stdout}${run.stderr}`, { file: RUNNER });
    }
    const prefix = installers.length > 1 ? `${installer.name}/` : '';
    for (const c of parsed.cases) (c.passed ? passed : failed).push(`${prefix}${c.name}`);
    for (const c of parsed.cases.filter((x) => !x.passed)) ctx.logger.error(`case ${prefix}${c.name} failed: ${c.why}`);
    logs.push(`##### ${installer.path}\n${await readFile(caseLog, 'utf8')}`);
  }

  const results: ConformanceResults = {
    _type: STATEMENT_TYPE,
    subject: [...installers, ...plugins].map((a) => ({ name: a.path, digest: { sha256: a.sha256 } })),
    predicateType: TEST_RESULT_V01,
    predicate: {
      result: failed.length ? 'FAILED' : 'PASSED',
      configuration: [
        { name: PACK_DIR, digest: { sha256: await treeDigest(pack) } },
        { name: RUNNER, digest: { sha256: await sha256File(helixFile(RUNNER)) } },
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
