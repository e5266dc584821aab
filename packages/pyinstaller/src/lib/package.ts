/**
 * Stage `package`: builds an app with PyInstaller and zips the onedir bundle
 * reproducibly into `dist/release/<app>-<version>-<platform>.zip`.
 *
 * Reproducibility, learned the hard way:
 * - the build environment is a *relocatable* uv venv: pip writes the venv's
 *   absolute path into console-script shebangs, and those scripts' hashes end
 *   up in the RECORD files that copy_metadata puts in the bundle, so two
 *   checkouts in two folders gave different bytes;
 * - PYTHONHASHSEED=0, SOURCE_DATE_EPOCH, TZ=UTC, LC_ALL=C.UTF-8 and a private
 *   PyInstaller config/cache folder for the build;
 * - the zip normalises order, times and modes (umask 077 and 022 give the same
 *   zip).
 */
import { readdir, realpath, rm, stat, utimes } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import {
  collectFolderEntries,
  describeReleaseFile,
  installerArtifactName,
  platformTag,
  probeInterpreter,
  readAppMetadata,
  readOsRelease,
  appEnv,
  helixFile,
  readPins,
  readStageRecord,
  relativeInside,
  resolveUv,
  runTool,
  sha256File,
  toolchainPaths,
  writeReproducibleZip,
  writeStageRecord,
  type AppMetadata,
  type BuildHost,
  type ReleaseArtifact,
  type StageContext,
} from '@helix-release/core';
import { PackageError } from './errors';
import { DIST_OWNERS, leakMessage, leakedDistributions } from './leaks';
import { describeWheels, dropInstallerCacheFiles, wheelsOf } from './wheels';

/** Options of the package stage. */
export interface PackageOptions {
  /** The PyInstaller spec, relative to the project root. */
  spec: string;
  /** The locked requirements file, relative to the project root. Default `requirements.txt`. */
  requirements?: string;
}

/** What the stage built. */
export interface PackageResult {
  artifact: ReleaseArtifact;
  python: string;
  pyinstaller: string;
}

const isWindows = process.platform === 'win32';

/** The environment every build tool runs in: fixed seeds, clock, zone and locale. */
export function buildEnvironment(sourceDateEpoch: number, workDir: string): Record<string, string> {
  return {
    PYTHONHASHSEED: '0',
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYINSTALLER_CONFIG_DIR: join(workDir, 'pyinstaller-config'),
    UV_NO_CONFIG: '1',
    UV_PYTHON_DOWNLOADS: 'never',
  };
}

/**
 * The one onedir bundle PyInstaller wrote to `distPath`: its folder name (the
 * executable's name) and absolute path. Throws PYINSTALLER_OUTPUT, naming
 * `specFile`, when there is none, more than one, or a onefile executable.
 */
export async function findBundle(distPath: string, specFile: string): Promise<{ name: string; dir: string }> {
  const bundles = await readdir(distPath);
  if (bundles.length !== 1) {
    throw new PackageError('PYINSTALLER_OUTPUT', `expected one onedir bundle in ${distPath}, found ${bundles.length ? bundles.join(', ') : 'none'}; the spec must COLLECT exactly one app (onedir, not onefile)`, {
      file: specFile,
    });
  }
  const dir = join(distPath, bundles[0]!);
  if (!(await stat(dir)).isDirectory()) {
    throw new PackageError('PYINSTALLER_OUTPUT', 'the spec built a onefile executable; helix-release ships onedir bundles (use COLLECT)', { file: specFile });
  }
  return { name: bundles[0]!, dir };
}

/**
 * The smoke test's verdict: the built `<bundleName> --version` must print
 * exactly `<name> <version>` of the app's pyproject.toml. Throws
 * PYINSTALLER_SMOKE, naming `pyprojectFile`, otherwise.
 */
export function checkSmokeOutput(stdout: string, meta: Pick<AppMetadata, 'name' | 'version'>, bundleName: string, pyprojectFile: string): void {
  const expected = `${meta.name} ${meta.version}`;
  if (stdout.trim() !== expected) {
    throw new PackageError('PYINSTALLER_SMOKE', `the built ${bundleName} --version printed ${JSON.stringify(stdout.trim())}, expected ${JSON.stringify(expected)}; keep the app's version in step with pyproject.toml`, {
      file: pyprojectFile,
    });
  }
}

/**
 * Variables that make the dynamic loader or Python load code from elsewhere:
 * whatever LD_PRELOAD names while PyInstaller runs is found as a dependency
 * and bundled (seen with libfaketime), then summed and signed. The package
 * stage runs every tool with them removed, and says so.
 */
export const LOADER_VARIABLES = ['LD_PRELOAD', 'LD_AUDIT', 'LD_PROFILE', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONINSPECT', 'PYTHONUSERBASE', 'PYTHONEXECUTABLE'] as const;

/** The loader variables set in `env`, and an environment that removes them (each set to undefined, which runTool drops). */
export function clearedLoaderVariables(env: NodeJS.ProcessEnv): { cleared: string[]; unset: Record<string, undefined> } {
  const cleared = LOADER_VARIABLES.filter((v) => env[v] !== undefined && env[v] !== '');
  return { cleared, unset: Object.fromEntries(LOADER_VARIABLES.map((v) => [v, undefined])) };
}

/** Asks the build venv's PyInstaller for its bootloader platform and file. */
const BOOTLOADER_PROBE = [
  'import json, os, PyInstaller',
  "exe = '.exe' if os.name == 'nt' else ''",
  "print(json.dumps({'platform': PyInstaller.PLATFORM, 'bootloader': os.path.join(os.path.dirname(PyInstaller.__file__), 'bootloader', PyInstaller.PLATFORM, 'run' + exe)}))",
].join('\n');

/** The build host as {@link BuildHost} records it, and the base interpreter's prefix (for the bundle check). */
async function probeHost(python: string, env: Record<string, string | undefined>): Promise<{ host: BuildHost; basePrefix: string }> {
  const probe = await probeInterpreter(python, env);
  const boot = JSON.parse((await runTool({ command: python, args: ['-c', BOOTLOADER_PROBE], env })).stdout) as { platform: string; bootloader: string };
  const os = await readOsRelease();
  const host: BuildHost = {
    python: {
      version: probe.version,
      sha256: await sha256File(probe.executable),
      ...(probe.libpython ? { libpython: { name: probe.libpython.split(/[\\/]/).pop()!, sha256: await sha256File(probe.libpython) } } : {}),
    },
    bootloader: { platform: boot.platform, sha256: await sha256File(boot.bootloader) },
    os,
  };
  return { host, basePrefix: probe.basePrefix };
}

/** Where a Linux bundle may take files from besides the build's own folders and the interpreter: the system library folders. */
export const SYSTEM_LIBRARY_DIRS = ['/lib', '/lib32', '/lib64', '/usr/lib', '/usr/lib32', '/usr/lib64'];

/** Reads the (destination, source path) of every entry of PyInstaller's COLLECT (files) and PYZ (pure-Python modules) tables of contents in `workPath`. */
const COLLECT_SOURCES = [
  'import ast, glob, json, os, sys',
  "tocs = sorted(glob.glob(os.path.join(sys.argv[1], '**', 'COLLECT-*.toc'), recursive=True))",
  "pyz = sorted(glob.glob(os.path.join(sys.argv[1], '**', 'PYZ-*.toc'), recursive=True))",
  'out = []',
  'def walk(x):',
  '    if isinstance(x, (list, tuple)) and len(x) == 3 and all(isinstance(y, str) for y in x) and x[2].isupper():',
  '        out.append([x[0], x[1]])',
  '    elif isinstance(x, (list, tuple)):',
  '        for y in x: walk(y)',
  'for t in tocs + pyz:',
  "    with open(t, encoding='utf-8') as f: walk(ast.literal_eval(f.read()))",
  "print(json.dumps({'tocs': tocs, 'entries': out}))",
].join('\n');

/** True when `file` is `dir` or below it. */
function within(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Bundle entries whose source is outside `allowed` (the workspace with the
 * build's venv and work folder, the base interpreter, the system library folders):
 * a file the build environment leaked into the installer.
 */
export function foreignEntries(entries: readonly [string, string][], allowed: readonly string[]): [string, string][] {
  return entries.filter(([, src]) => isAbsolute(src) && !allowed.some((dir) => within(src, dir)));
}

/** Folders of an app that hold no source PyInstaller bundles (tests, builds, environments, caches). */
const NOT_SOURCE = new Set(['__pycache__', 'node_modules', 'build', 'dist', 'tests', 'test']);

/** The app's Python sources: every `*.py` below `root` but in hidden folders, {@link NOT_SOURCE} and virtual environments. */
export async function appSources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.name === 'pyvenv.cfg')) return;
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCE.has(e.name)) await walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.py')) out.push(join(dir, e.name));
    }
  };
  await walk(root);
  return out;
}

/**
 * Compiles each file with `python` (in memory: no __pycache__ is written) and
 * stops at the first that does not compile, naming it with line and column.
 * PyInstaller itself only warns about such a module and leaves it out, so
 * the built app failed its smoke test with a ModuleNotFoundError.
 */
const COMPILE_CHECK = [
  'import json, sys',
  'for path in sys.argv[1:]:',
  '    try:',
  "        with open(path, 'rb') as f:",
  "            compile(f.read(), path, 'exec', dont_inherit=True)",
  '    except (SyntaxError, ValueError) as e:',
  "        print(json.dumps({'file': path, 'line': getattr(e, 'lineno', None), 'column': getattr(e, 'offset', None), 'message': getattr(e, 'msg', None) or str(e)}))",
  '        sys.exit(3)',
].join('\n');

/** APP_SOURCE_INVALID naming the first of `files` that `python` cannot compile. */
export async function checkAppSources(python: string, workspaceRoot: string, files: readonly string[], env: Record<string, string | undefined>): Promise<void> {
  if (!files.length) return;
  const r = await runTool({ command: python, args: ['-c', COMPILE_CHECK, ...files], env, okExitCodes: [0, 3] });
  if (r.exitCode === 0) return;
  let bad: { file: string; line: number | null; column: number | null; message: string } | undefined;
  try {
    bad = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as typeof bad;
  } catch {
    bad = undefined;
  }
  if (!bad) throw new PackageError('APP_SOURCE_INVALID', `${python} could not check the app's sources (exit ${r.exitCode}): ${r.stderr.trim().slice(-500)}`, { file: files[0] });
  // `file` is `path:line:column` (relative to the workspace), as editors take it.
  const where = [relative(workspaceRoot, bad.file), bad.line, bad.column].filter((x) => x !== null && x !== undefined).join(':');
  throw new PackageError('APP_SOURCE_INVALID', `${bad.message}; the app's source does not compile (PyInstaller would leave the module out and the built app fail to import it): fix it and run the release again`, { file: where });
}

/**
 * PACKAGE_FOREIGN_FILE unless every file PyInstaller collected comes from
 * `allowed` (Linux only: elsewhere the system folders differ, and the check
 * is not made). The table of contents is PyInstaller's own COLLECT-*.toc.
 */
async function checkBundleSources(
  python: string,
  env: Record<string, string | undefined>,
  workPath: string,
  specFile: string,
  allowed: string[],
  lock: { sitePackages: string; locked: string[]; requirementsFile: string },
): Promise<void> {
  const { tocs, entries } = JSON.parse((await runTool({ command: python, args: ['-c', COLLECT_SOURCES, workPath], env })).stdout) as { tocs: string[]; entries: [string, string][] };
  if (!tocs.length || !entries.length) {
    throw new PackageError('PYINSTALLER_OUTPUT', `PyInstaller left no COLLECT table of contents in ${workPath}; the spec must COLLECT exactly one app (onedir)`, { file: specFile });
  }
  // Every platform: nothing of the build venv that the app's lock does not hold.
  const owners = JSON.parse((await runTool({ command: python, args: ['-c', DIST_OWNERS, lock.sitePackages], env })).stdout) as Record<string, [string, string]>;
  const real = new Map<string, string>();
  for (const [, src] of entries) if (isAbsolute(src) && !real.has(src)) real.set(src, await realpath(src).catch(() => src));
  const leaks = leakedDistributions(entries, owners, lock.locked, (f) => real.get(f) ?? f);
  if (leaks.length) throw new PackageError('PACKAGE_UNLOCKED', leakMessage(leaks, lock.requirementsFile), { file: lock.requirementsFile });
  if (process.platform !== 'linux') return;
  const foreign = foreignEntries(entries, allowed);
  if (foreign.length) {
    const shown = foreign.slice(0, 5).map(([dest, src]) => `${dest} (from ${src})`).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
    throw new PackageError(
      'PACKAGE_FOREIGN_FILE',
      `the bundle would ship ${foreign.length === 1 ? 'a file' : 'files'} from outside the build environment, the workspace, the interpreter and the system library folders: ${shown}; remove what the build environment adds (a preloaded library, a path setting) or bundle a copy committed to the workspace`,
      { file: specFile },
    );
  }
}

/** Runs the stage. */
export async function packageStage(ctx: StageContext, options: PackageOptions): Promise<PackageResult> {
  const meta = readAppMetadata(ctx.workspaceRoot, relativeInside(ctx.workspaceRoot, ctx.projectRoot, 'app folder'));
  const platform = platformTag();
  const artifactName = installerArtifactName(meta, platform);
  const artifactPath = join(ctx.releaseDir, artifactName);
  // A failed build must not leave the previous zip looking current (the
  // adapter has removed the record and the evidence already).
  await rm(artifactPath, { force: true });

  // The lock stage must have passed for exactly these lockfiles.
  await readStageRecord(ctx.workspaceRoot, ctx.project, 'lock');
  const sde = ctx.sourceDateEpoch.seconds;
  const loader = clearedLoaderVariables(process.env);
  if (loader.cleared.length) ctx.logger.warn(`building without ${loader.cleared.join(', ')}: what they load would be bundled into the installer`);
  const env: Record<string, string | undefined> = { ...loader.unset, ...buildEnvironment(sde, ctx.workDir) };
  const uv = await resolveUv(ctx.workspaceRoot);
  const pins = readPins(ctx.workspaceRoot);
  await rm(ctx.workDir, { recursive: true, force: true });
  const venv = join(ctx.workDir, 'venv');
  const python = join(venv, isWindows ? 'Scripts/python.exe' : 'bin/python');

  ctx.logger.info(`creating a clean build environment with ${ctx.config.python}`);
  await runTool({
    command: uv,
    args: ['venv', '--relocatable', '--no-project', '--python', ctx.config.python, '--python-preference', 'only-system', venv],
    env,
  });
  // Before anything is fetched or built: a module that does not compile would be left out of the bundle.
  await checkAppSources(python, ctx.workspaceRoot, await appSources(ctx.projectRoot), env);
  // The exact wheels are fetched first (pip checks every hash), then
  // installed offline from that folder: the record names the one file per
  // package that went into the bundle, with its sha256, for provenance.
  const appRequirements = join(ctx.projectRoot, options.requirements ?? 'requirements.txt');
  const toolRequirements = helixFile(pins.python.requirements);
  const wheelhouse = join(ctx.workDir, 'wheels');
  ctx.logger.info('fetching the locked wheels (--require-hashes, wheels only)');
  await runTool({
    command: toolchainPaths(ctx.workspaceRoot).venvPython,
    args: ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-input', '--require-hashes', '--only-binary', ':all:', '--no-deps', '-d', wheelhouse, '-r', appRequirements, '-r', toolRequirements],
    env,
  });
  const wheels = await describeWheels(wheelhouse);
  // uv records a local archive's mtime in <dist-info>/uv_cache.json (listed
  // in RECORD, so it ends up in the bundle): pin it to SOURCE_DATE_EPOCH.
  await Promise.all(wheels.map((w) => utimes(join(wheelhouse, w.file), sde, sde)));
  const appWheels = await wheelsOf(appRequirements, wheels);
  ctx.logger.info('installing them into the clean environment');
  await runTool({
    command: uv,
    args: ['pip', 'install', '--python', python, '--offline', '--no-index', '--find-links', wheelhouse, '--require-hashes', '--no-deps', '--no-cache', '--link-mode', 'copy', '-r', appRequirements, '-r', toolRequirements],
    env,
  });
  await runTool({ command: uv, args: ['pip', 'check', '--python', python], env });
  const sitePackages = (await runTool({ command: python, args: ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env })).stdout.trim();
  await dropInstallerCacheFiles(sitePackages);
  const pythonVersion = (await runTool({ command: python, args: ['-c', 'import platform; print(platform.python_version())'], env })).stdout.trim();
  const pyinstallerVersion = (await runTool({ command: python, args: ['-m', 'PyInstaller', '--version'], env })).stdout.trim();
  const { host, basePrefix } = await probeHost(python, env);

  const distPath = join(ctx.workDir, 'pyi-dist');
  ctx.logger.info(`PyInstaller ${pyinstallerVersion} on Python ${pythonVersion}: ${options.spec} (SOURCE_DATE_EPOCH=${sde})`);
  await runTool({
    command: python,
    args: ['-m', 'PyInstaller', '--clean', '--noconfirm', '--log-level', 'WARN', '--distpath', distPath, '--workpath', join(ctx.workDir, 'pyi-build'), join(ctx.projectRoot, options.spec)],
    cwd: ctx.projectRoot,
    env,
  });

  const bundle = await findBundle(distPath, join(ctx.projectRoot, options.spec));
  await checkBundleSources(python, env, join(ctx.workDir, 'pyi-build'), join(ctx.projectRoot, options.spec), [
    // The workspace: the app and what it bundles from the repository (the Studio its trust store), and the work folder.
    ctx.workspaceRoot,
    await realpath(ctx.workspaceRoot),
    ctx.workDir,
    await realpath(ctx.workDir),
    basePrefix,
    ...(process.platform === 'linux' ? SYSTEM_LIBRARY_DIRS : []),
  ], { sitePackages, locked: appWheels.map((w) => w.name), requirementsFile: relative(ctx.workspaceRoot, appRequirements) });
  const executable = join(bundle.dir, `${bundle.name}${isWindows ? '.exe' : ''}`);
  // The app's own runtime settings (apps.env, apps.settings[app].env), as it runs once installed.
  const smoke = await runTool({ command: executable, args: ['--version'], env: { ...appEnv(ctx.config, meta.name), ...env } });
  checkSmokeOutput(smoke.stdout, meta, bundle.name, join(ctx.projectRoot, 'pyproject.toml'));

  const prefix = artifactName.replace(/\.zip$/, '');
  const entries = await collectFolderEntries(bundle.dir, { prefix: `${prefix}/`, symlinks: 'keep' });
  await writeReproducibleZip(artifactPath, entries, sde);
  const artifact = await describeReleaseFile(ctx.releaseDir, artifactName, 'installer', { sbom: true, name: meta.name, version: meta.version, platform });
  await writeStageRecord(ctx.workspaceRoot, {
    stage: 'package',
    project: ctx.project,
    artifacts: [artifact],
    data: { python: pythonVersion, pyinstaller: pyinstallerVersion, wheels: appWheels, executable: `${prefix}/${bundle.name}${isWindows ? '.exe' : ''}`, entries: entries.length, host },
  });
  ctx.logger.info(`${artifactName}: ${entries.length} files, ${artifact.size} bytes, sha256 ${artifact.sha256}`);
  return { artifact, python: pythonVersion, pyinstaller: pyinstallerVersion };
}
