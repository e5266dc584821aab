/**
 * Stage `lock`: the app's dependencies must be pinned, hashed and current.
 *
 * 1. every `requirements*.txt` in the app folder: `name==version` and a
 *    `--hash=sha256:` on every requirement, no editable/VCS/URL/path entries;
 * 2. `uv.lock` current with `pyproject.toml` (`uv lock --check --offline`, with
 *    our own comparison to name the line that changed);
 * 3. the main `requirements.txt` and `uv.lock` lock the same set: same
 *    packages, same versions, and every hash in requirements.txt is one that
 *    uv.lock knows.
 *
 * On success it writes the lock report (the stage record's `data`), which the
 * package, sbom and provenance stages consume.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ReleaseError,
  relativeInside,
  resolveUv,
  runTool,
  sha256Hex,
  writeStageRecord,
  type LockReport,
  type StageContext,
} from '@helix-release/core';
import { LockError } from './errors';
import { parseRequirements, type PinnedRequirement } from './requirements';
import { parseUvLock, readPyprojectDependencies } from './uvlock';

/** The lock report: the record data type lives in core, shared with its readers. */
export type { LockReport } from '@helix-release/core';

/** Options of the lock stage. */
export interface LockOptions {
  /** Absolute path of the app folder. */
  projectRoot: string;
  /** Main requirements file name. Default `requirements.txt`. */
  requirements?: string;
  /** Skip running uv (unit tests without a toolchain); the static checks still run. */
  skipUv?: boolean;
}

async function readText(path: string, display: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new LockError('LOCK_MISSING', `missing; ${hint}`, { file: display, cause });
  }
}

/** What uv printed when it failed, as one line. */
function uvSays(err: unknown): string | undefined {
  if (!(err instanceof ReleaseError) || err.code !== 'TOOL_FAILED') return undefined;
  return err.message.split('\n').slice(1).join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * `uv lock --check`: offline first (the cache usually knows every locked
 * package), then, when the cache lacks them (a fresh machine or CI runner),
 * against the package index. Only uv's "needs to be updated" is a stale lock;
 * a cache or network failure is LOCK_TOOL_FAILED, naming what to fix, so a
 * cold cache never reads as a lock to regenerate.
 */
async function uvLockCheck(uv: string, root: string, ctx: { env?: NodeJS.ProcessEnv; logger: StageContext['logger'] }): Promise<{ stale?: string }> {
  const run = (offline: boolean) =>
    runTool({ command: uv, args: ['lock', '--check', ...(offline ? ['--offline'] : []), '--no-config', '--color', 'never', '--directory', root], env: ctx.env, timeoutMs: 5 * 60_000 }).then(
      () => undefined,
      (err: unknown) => {
        const said = uvSays(err);
        if (said === undefined) throw err;
        return said;
      },
    );
  const classify = (said: string, online: boolean): { stale?: string } => {
    if (/needs to be updated/.test(said)) return { stale: said };
    if (/initialize cache|cache directory|Permission denied|Read-only file system/i.test(said)) {
      throw new LockError('LOCK_TOOL_FAILED', `uv cannot use its cache folder: ${said}; point UV_CACHE_DIR at a writable folder (or fix HOME) and run the release again`, { file: uv });
    }
    throw new LockError(
      'LOCK_TOOL_FAILED',
      `uv could not check uv.lock${online ? ' against the package index' : ''}: ${said}; ` +
        (online ? 'it needs the index (or a uv cache that holds the locked packages): check the network or UV_INDEX_URL, then run the release again' : 'run the release again'),
      { file: `${root}/uv.lock` },
    );
  };
  const offline = await run(true);
  if (offline === undefined) return {};
  if (!/network was disabled|not found in the cache|wasn't found in the cache/i.test(offline)) return classify(offline, false);
  ctx.logger.info('uv\'s cache lacks the locked packages; checking uv.lock against the package index');
  const online = await run(false);
  return online === undefined ? {} : classify(online, true);
}

/** Runs the checks and returns the report, without writing anything. */
export async function checkLockfiles(ctx: Pick<StageContext, 'workspaceRoot' | 'logger'> & { env?: NodeJS.ProcessEnv }, options: LockOptions): Promise<LockReport> {
  const root = options.projectRoot;
  const rel = (name: string) => relativeInside(ctx.workspaceRoot, join(root, name));
  const mainName = options.requirements ?? 'requirements.txt';

  const requirementFiles = (await readdir(root)).filter((f) => /^requirements.*\.txt$/.test(f)).sort();
  if (!requirementFiles.includes(mainName)) {
    throw new LockError('LOCK_MISSING', 'missing; export it from uv.lock with `uv export --format requirements-txt --hashes --no-emit-project -o requirements.txt`', { file: rel(mainName) });
  }
  const lockfiles: LockReport['lockfiles'] = [];
  let main: PinnedRequirement[] = [];
  for (const name of requirementFiles) {
    const text = await readFile(join(root, name), 'utf8');
    const parsed = parseRequirements(text, rel(name));
    if (name === mainName) main = parsed;
    lockfiles.push({ path: rel(name), sha256: sha256Hex(text) });
  }

  const pyprojectText = await readText(join(root, 'pyproject.toml'), rel('pyproject.toml'), 'the app needs a pyproject.toml with [project] dependencies');
  const uvLockText = await readText(join(root, 'uv.lock'), rel('uv.lock'), 'run `uv lock` in the app folder and commit uv.lock');
  lockfiles.push({ path: rel('pyproject.toml'), sha256: sha256Hex(pyprojectText) }, { path: rel('uv.lock'), sha256: sha256Hex(uvLockText) });
  const pyproject = readPyprojectDependencies(pyprojectText, rel('pyproject.toml'));
  const uvLock = parseUvLock(uvLockText, rel('uv.lock'), pyproject.name);

  // Our own staleness check finds the line; uv is the authority.
  const stale = (why: string, line: number) =>
    new LockError('LOCK_STALE', `uv.lock is out of date with pyproject.toml: ${why}; run \`uv lock\` in ${rel('.')} and commit uv.lock`, {
      file: `${rel('pyproject.toml')}:${line}`,
    });
  if (uvLock.projectRequires === undefined) {
    throw stale(`uv.lock has no entry for project ${pyproject.name}`, pyproject.headerLine);
  }
  if (pyproject.requiresPython !== undefined && uvLock.requiresPython !== undefined && pyproject.requiresPython.replace(/\s/g, '') !== uvLock.requiresPython.replace(/\s/g, '')) {
    throw stale(`requires-python is ${pyproject.requiresPython}, uv.lock has ${uvLock.requiresPython}`, pyproject.headerLine);
  }
  for (const dep of pyproject.requires) {
    if (!uvLock.projectRequires.includes(dep.key)) throw stale(`dependency ${JSON.stringify(dep.text)} is not what uv.lock resolved`, dep.line);
  }
  const declared = new Set(pyproject.requires.map((d) => d.key));
  for (const locked of uvLock.projectRequires) {
    if (!declared.has(locked)) throw stale(`uv.lock still resolves ${locked}, which pyproject.toml no longer asks for`, pyproject.headerLine);
  }
  if (!options.skipUv) {
    const verdict = await uvLockCheck(await resolveUv(ctx.workspaceRoot), root, ctx);
    if (verdict.stale) throw stale(`\`uv lock --check\` says: ${verdict.stale}`, pyproject.headerLine);
  }

  // requirements.txt and uv.lock must lock the same set.
  const byName = new Map<string, typeof uvLock.packages>();
  for (const pkg of uvLock.packages) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);
  const regenerate = 'regenerate requirements.txt with `uv export --format requirements-txt --hashes --no-emit-project -o requirements.txt`';
  for (const req of main) {
    const locked = byName.get(req.name);
    const at = `${rel(mainName)}:${req.line}`;
    const same = locked?.find((p) => p.version === req.version);
    if (!same) {
      const what = locked ? `uv.lock locks ${locked.map((p) => p.version).join(', ')}` : 'uv.lock does not lock it';
      throw new LockError('LOCK_MISMATCH', `${req.name}==${req.version} but ${what}; ${regenerate}`, { file: at });
    }
    const unknown = req.hashes.filter((h) => !same.hashes.includes(h));
    if (unknown.length) {
      throw new LockError('LOCK_MISMATCH', `${req.name}==${req.version}: hash ${unknown[0]} is not one uv.lock records for that version; ${regenerate}`, { file: at });
    }
  }
  const required = new Set(main.map((r) => `${r.name}==${r.version}`));
  for (const pkg of uvLock.packages) {
    if (!required.has(`${pkg.name}==${pkg.version}`)) {
      throw new LockError('LOCK_MISMATCH', `uv.lock locks ${pkg.name}==${pkg.version} but ${mainName} does not list it; ${regenerate}`, { file: `${rel('uv.lock')}:${pkg.line}` });
    }
  }

  return {
    app: pyproject.name,
    lockfiles,
    packages: main
      .map((r) => ({ name: r.name, version: r.version, marker: r.marker, hashes: r.hashes }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** The stage: checks, then writes the lock report as the stage record. */
export async function lockStage(ctx: StageContext, options: LockOptions): Promise<LockReport> {
  // The adapter has removed the previous report: a failed check leaves none for later stages to trust.
  const report = await checkLockfiles(ctx, options);
  await writeStageRecord(ctx.workspaceRoot, { stage: 'lock', project: ctx.project, artifacts: [], data: report });
  ctx.logger.info(`${report.packages.length} locked packages, ${report.lockfiles.length} lockfiles checked`);
  return report;
}
